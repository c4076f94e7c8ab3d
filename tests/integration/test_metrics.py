"""Prometheus metrics scraped over HTTP from `docflow metrics` during a run, checked against the stores."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from docflow.core.broker import queue_lengths, redis_client
from docflow.core.db import fetch_all
from docflow.ops.progress import wait_for_documents
from docflow.ops.reconcile import run_reconcile
from docflow.ops.submit import ingest_file
from tests.support.servers import metrics_exporter

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]


def scrape(url: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Metric sample name -> {sorted labels: value}."""
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(httpx.get(url, timeout=30).text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


@pytest.fixture
def exporter(workers, tmp_path):
    with metrics_exporter(log=tmp_path / "metrics.log") as server:
        yield f"{server.url}/metrics"


def test_metrics_during_and_after_a_run_match_the_database_and_redis(exporter, workers, sample_files):
    good, bad = sample_files
    project = f"metrics-{uuid.uuid4().hex[:8]}"
    ids = [
        ingest_file(path=good[name], project_id=project).document_id
        for name in ("field_notes.txt", "scanned_letter.pdf", "partner_email.eml")
    ]
    ids.append(ingest_file(path=bad["corrupt.pdf"], project_id=project).document_id)
    # WHEN scraped while the documents are in flight THEN every family is there, for every stage
    during = scrape(exporter)
    assert {(("queue", q), ("stage", s)) for s, q in workers.queues.items()} <= set(during["docflow_queue_depth"])
    assert during["docflow_workers_online"][()] >= 1
    assert sum(during["docflow_documents"].values()) >= len(ids)
    assert during["docflow_scrape_errors"] == {(("part", p),): 0.0 for p in ("database", "redis", "workers")}
    # WHEN scraped again once they are done
    assert set(wait_for_documents(ids, timeout_s=240).values()) == {"graph_complete", "error_ocr"}
    run_reconcile(workers, grace_period_s=1)
    after = scrape(exporter)
    # THEN documents per status are exactly the database's
    statuses = dict(fetch_all("SELECT celery_status, count(*) FROM source_documents GROUP BY 1"))
    assert {labels[0][1]: value for labels, value in after["docflow_documents"].items()} == statuses
    # AND the stage-duration histogram counts exactly the succeeded stage runs, per stage
    runs = dict(
        fetch_all(
            "SELECT stage, count(*) FROM stage_runs WHERE outcome = 'succeeded' AND started_at "
            "IS NOT NULL AND finished_at IS NOT NULL GROUP BY stage"
        )
    )
    assert {dict(labels)["stage"]: v for labels, v in after["docflow_stage_duration_seconds_count"].items()} == runs
    inf = {
        dict(labels)["stage"]: v
        for labels, v in after["docflow_stage_duration_seconds_bucket"].items()
        if dict(labels)["le"] == "+Inf"
    }
    assert inf == runs
    # AND the corrupt PDF is one more bad-input error of the OCR stage
    bad_input = after["docflow_errors"][(("reason_class", "bad_input"), ("stage", "ocr"))]
    assert (
        bad_input
        == fetch_all(
            "SELECT count(*) FROM source_documents WHERE celery_status = 'error_ocr' AND "
            "error_message ~* '^(unsupported|corrupt|encrypted|empty|too |file too large|"
            "image too large|page too large|no text|malformed|macro)'"
        )[0][0]
        >= 1
    )
    # AND queue depths are Redis's, and the reconcile run just made is reported by kind
    lengths = queue_lengths(redis_client(workers), list(workers.queues.values()))
    assert {dict(labels)["queue"]: v for labels, v in after["docflow_queue_depth"].items()} == lengths
    assert {dict(labels)["kind"] for labels in after["docflow_reconcile_findings"]} >= {"LOST", "STUCK", "ORPHAN"}
    assert time.time() - after["docflow_reconcile_last_run_timestamp_seconds"][()] < 120
