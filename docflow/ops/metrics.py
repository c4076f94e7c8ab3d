"""Prometheus metrics: what the monitor shows, as numbers a scraper can keep.

Collected at scrape time from the sources of truth (PostgreSQL for documents and stage runs,
Redis for queues and the last reconcile's findings, the workers for who is online), in a handful
of set-based queries; nothing is counted in process memory, so every API process and the
``docflow metrics`` exporter report the same figures, and a restart loses nothing. A part that
cannot be read (a service down) is left out and counted in ``docflow_scrape_errors``.

Metrics (all prefixed ``docflow_``):

* ``queue_depth{stage,queue}`` — messages waiting (priority siblings included); ``unacked_messages``.
* ``documents{status}`` — documents per ``celery_status``.
* ``stage_duration_seconds{stage}`` — histogram of succeeded stage runs (started → finished).
* ``stage_runs_total{stage,outcome}`` — stage runs by outcome (``retrying`` counts retries).
* ``errors{stage,reason_class}`` — documents in a stage's error status, by the class of reason
  (bad input, gave up after retries, poison message, time limit, other).
* ``reconcile_findings{kind}`` — the last reconcile run's findings by kind, and
  ``reconcile_last_run_timestamp_seconds``.
* ``breaker_open{store}`` — 1 while the store's circuit breaker is open (its stages wait), and
  ``breaker_opened_timestamp_seconds{store}`` since when.
* ``workers_online`` — workers answering a ping.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from docflow.core.breaker import read_breakers
from docflow.core.broker import ping_workers, queue_lengths, redis_client, unacked_count
from docflow.core.db import fetch_all
from docflow.core.settings import Settings
from docflow.core.status import ERROR, Stage

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
RECONCILE_KEY = "docflow:reconcile:last"

_STATUS_SQL = "SELECT celery_status, count(*) FROM source_documents GROUP BY celery_status"
_DURATION_SQL = (
    "SELECT stage, count(*), coalesce(sum(extract(epoch FROM finished_at - started_at)), 0), "
    + ", ".join(f"count(*) FILTER (WHERE finished_at - started_at <= interval '{b} seconds')" for b in BUCKETS)
    + " FROM stage_runs WHERE outcome = 'succeeded' AND started_at IS NOT NULL AND finished_at IS NOT NULL"
    " GROUP BY stage"
)
_RUNS_SQL = "SELECT stage, outcome, count(*) FROM stage_runs WHERE attempt >= 0 GROUP BY stage, outcome"
# The class of an error message, decided by the words docflow itself writes there.
_ERRORS_SQL = """
SELECT celery_status,
       CASE WHEN error_message LIKE 'poison message%%' THEN 'poison_message'
            WHEN error_message LIKE 'gave up after%%' THEN 'gave_up_after_retries'
            WHEN error_message LIKE '%%exceeded its time limit%%' THEN 'time_limit'
            WHEN error_message ~* '^(unsupported|corrupt|encrypted|empty|too |file too large|image too large|page too large|no text|malformed|macro)' THEN 'bad_input'
            ELSE 'other' END AS reason_class,
       count(*)
FROM source_documents WHERE celery_status = ANY(%(errors)s)
GROUP BY 1, 2
"""


def record_reconcile(settings: Settings, counts: dict[str, int]) -> None:
    """Keep the last reconcile run's findings where every scraper can read them (best effort)."""
    try:
        redis_client(settings).set(RECONCILE_KEY, json.dumps({"at": time.time(), "counts": counts}))
    except Exception:  # noqa: BLE001 - metrics are a view; reconcile's own report is the record
        pass


class DocflowCollector(Collector):
    def __init__(self, settings: Settings, *, inspect_timeout_s: float = 1.0) -> None:
        self.settings = settings
        self.inspect_timeout_s = inspect_timeout_s

    def collect(self) -> Iterator[Any]:
        errors = GaugeMetricFamily(
            "docflow_scrape_errors", "Parts of this scrape that could not be read", labels=["part"]
        )
        for part, produce in (("database", self._database), ("redis", self._redis), ("workers", self._workers)):
            try:
                yield from produce()
                errors.add_metric([part], 0)
            except Exception:  # noqa: BLE001 - a dead service is a scrape error, never a failed scrape
                errors.add_metric([part], 1)
        yield errors

    def _database(self) -> Iterator[Any]:
        documents = GaugeMetricFamily("docflow_documents", "Documents per status", labels=["status"])
        for status, n in fetch_all(_STATUS_SQL):
            documents.add_metric([status], n)
        yield documents
        duration = HistogramMetricFamily(
            "docflow_stage_duration_seconds", "Succeeded stage runs, started to finished", labels=["stage"]
        )
        for stage, count, total, *cumulative in fetch_all(_DURATION_SQL):
            buckets = [(str(b), int(n)) for b, n in zip(BUCKETS, cumulative, strict=True)] + [("+Inf", int(count))]
            duration.add_metric([stage], buckets, float(total))
        yield duration
        runs = CounterMetricFamily(
            "docflow_stage_runs", "Stage runs by outcome (retrying: a retry was scheduled)", labels=["stage", "outcome"]
        )
        for stage, outcome, n in fetch_all(_RUNS_SQL):
            runs.add_metric([stage, outcome], n)
        yield runs
        by_error = {error.value: stage.value for stage, error in ERROR.items()}
        failures = GaugeMetricFamily(
            "docflow_errors", "Documents in a stage's error status, by reason class", labels=["stage", "reason_class"]
        )
        for status, reason_class, n in fetch_all(_ERRORS_SQL, {"errors": sorted(by_error)}):
            failures.add_metric([by_error[status], reason_class], n)
        yield failures

    def _redis(self) -> Iterator[Any]:
        client = redis_client(self.settings)
        lengths = queue_lengths(client, list(self.settings.queues.values()))
        depth = GaugeMetricFamily("docflow_queue_depth", "Messages waiting per stage queue", labels=["stage", "queue"])
        for stage in Stage:
            queue = self.settings.queue_for(stage)
            depth.add_metric([stage.value, queue], lengths.get(queue, 0))
        yield depth
        yield GaugeMetricFamily(
            "docflow_unacked_messages", "Delivered, not yet acknowledged", value=unacked_count(client)
        )
        opened = GaugeMetricFamily("docflow_breaker_open", "1 while the store's breaker is open", labels=["store"])
        since = GaugeMetricFamily(
            "docflow_breaker_opened_timestamp_seconds", "When the open breaker opened", labels=["store"]
        )
        for store, breaker in read_breakers(client).items():
            opened.add_metric([store.value], int(breaker.is_open))
            if breaker.is_open and breaker.opened_at is not None:
                since.add_metric([store.value], breaker.opened_at)
        yield opened
        yield since
        findings = GaugeMetricFamily(
            "docflow_reconcile_findings", "The last reconcile run's findings by kind", labels=["kind"]
        )
        raw = client.get(RECONCILE_KEY)
        if raw:
            last = json.loads(raw)
            for kind, n in last["counts"].items():
                findings.add_metric([kind], n)
            yield GaugeMetricFamily(
                "docflow_reconcile_last_run_timestamp_seconds", "When reconcile last ran", value=last["at"]
            )
        yield findings

    def _workers(self) -> Iterator[Any]:
        online = len(ping_workers(timeout_s=self.inspect_timeout_s))
        yield GaugeMetricFamily("docflow_workers_online", "Celery workers answering a ping", value=online)


def registry_for(settings: Settings) -> CollectorRegistry:
    """A registry holding only docflow's collector (no process metrics of whoever serves it)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DocflowCollector(settings))
    return registry
