"""Faults only reconciliation can repair: lost messages, dead workers, an interrupted sweep."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from docflow import services
from tests.support.chaos import settle
from tests.support.pipeline import submit_all, wait_for_status, wait_terminal

pytestmark = [pytest.mark.chaos, pytest.mark.services, pytest.mark.workers, pytest.mark.slow]


def _reconcile(settings, project: str, **kwargs):
    from docflow.ops.reconcile import run_reconcile as reconcile

    options = {"grace_period_s": 0, "stuck_threshold_s": 2, "project_id": project, "inspect_timeout_s": 2}
    return reconcile(settings, **{**options, **kwargs})


def test_whole_worker_sigkilled_mid_ocr_is_found_stuck_and_redriven(
    stack, chaos_workers, chaos_files, clean_reference, project
):
    # GIVEN a worker OCRing the scan
    chaos_workers.start(concurrency=1)
    ids = submit_all(chaos_files.all, project)
    wait_for_status(ids[0], {"ocr_processing"})
    # WHEN the whole worker (main process and children) is SIGKILLed
    chaos_workers.kill_all()
    chaos_workers.start("chaos-2", concurrency=2)
    time.sleep(3)
    # THEN reconcile reports the scan STUCK (its message sits unacked until the visibility timeout,
    # far away on purpose) — and with it every message the killed worker had reserved (a worker
    # takes up to a batch of waiting messages of a stage) — and repair re-drives each; everything
    # completes
    report = _reconcile(stack, project, repair_problems=True)
    stuck = {f["document_id"] for f in report.of_kind("STUCK")}
    assert ids[0] in stuck and stuck <= set(ids), report.markdown()
    redriven = {a["document_id"] for a in report.actions if a["action"] == "redrive" and a["ok"]}
    assert redriven == stuck, report.markdown()
    settle(
        "whole worker SIGKILL mid-task",
        settings=stack,
        project_id=project,
        ids=ids,
        clean=clean_reference,
        note="STUCK → re-driven by reconcile",
    )


def test_redis_restarted_empty_loses_messages_and_reconcile_redrives_them(
    stack, chaos_workers, chaos_files, clean_reference, project
):
    # GIVEN queued documents and no worker
    ids = submit_all(chaos_files.all, project)
    redis = services.Redis(stack)
    # WHEN Redis comes back with no data at all
    redis.stop()
    shutil.rmtree(redis.dir, ignore_errors=True)
    redis.start()
    chaos_workers.start(concurrency=2)
    # THEN reconcile finds every document LOST and re-drives it
    report = _reconcile(stack, project, repair_problems=True)
    assert sorted(f["document_id"] for f in report.of_kind("LOST")) == sorted(ids), report.markdown()
    settle(
        "Redis restarted empty",
        settings=stack,
        project_id=project,
        ids=ids,
        clean=clean_reference,
        note="LOST → re-driven by reconcile",
    )


def test_redis_unreachable_at_submit_time(stack, chaos_workers, chaos_files, clean_reference, project):
    from docflow.ops.submit import ingest_file

    redis = services.Redis(stack)
    redis.stop()
    try:
        # WHEN documents are submitted while Redis is down
        results = [ingest_file(path=path, project_id=project) for path in chaos_files.small]
    finally:
        redis.start()
    # THEN submission says it did not reach the broker, and the rows wait as ocr_queued
    assert all(r.submitted and not r.submitted.success for r in results)
    assert {r.status for r in results} == {"ocr_queued"}
    chaos_workers.start(concurrency=2)
    report = _reconcile(stack, project, repair_problems=True)
    ids = [r.document_id for r in results]
    assert sorted(f["document_id"] for f in report.of_kind("LOST")) == sorted(ids), report.markdown()
    from tests.support.chaos import subset

    settle(
        "Redis unreachable at submit time",
        settings=stack,
        project_id=project,
        ids=ids,
        clean=subset(clean_reference, chaos_files.small),
        note="LOST → re-driven by reconcile",
    )


def test_sweep_process_killed_mid_sweep_and_rerun(stack, prefect_api, chaos_workers, project, tmp_path):
    from sqlalchemy import func, select

    from docflow.core.db import session_scope
    from docflow.core.models import SourceDocument

    folder = tmp_path / "intake"
    folder.mkdir()
    for index in range(60):
        (folder / f"memo-{index:03d}.txt").write_text(
            f"Memo {index}. Maria Gonzalez of Acme Logistics Inc. met Daniel Okafor in Rotterdam on March 3, 2025.\n"
        )
    past = time.time() - 600
    for path in folder.iterdir():
        os.utime(path, (past, past))
    code = (
        "from flows.intake import intake_sweep; "
        f"intake_sweep(source={str(folder)!r}, project_id={project!r}, batch_size=4, stable_seconds=1)"
    )
    from docflow.core.secrets import prefect_auth_string

    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "PREFECT_API_AUTH_STRING": prefect_auth_string(stack).get_secret_value(),
    }
    root = Path(__file__).resolve().parents[2]

    def registered() -> int:
        with session_scope() as session:
            return session.scalar(select(func.count()).where(SourceDocument.project_id == project))

    # WHEN the Prefect flow process is SIGKILLed after a few batches
    process = subprocess.Popen(
        [sys.executable, "-c", code], env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while registered() < 8 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    interrupted = registered()
    assert 0 < interrupted < 60, "the sweep was not interrupted mid-way"
    # AND the sweep is run again to the end
    subprocess.run([sys.executable, "-c", code], env=env, cwd=root, check=True, timeout=300, capture_output=True)
    # THEN every file is registered exactly once and every document completes
    assert registered() == 60
    chaos_workers.start(concurrency=2)
    with session_scope() as session:
        ids = list(session.execute(select(SourceDocument.id).where(SourceDocument.project_id == project)).scalars())
    statuses = wait_terminal(ids, timeout_s=300)
    from tests.support.invariants import check_project

    report = check_project(stack, project, expected_documents=60)
    from tests.support.chaos_results import RESULTS

    RESULTS.append(
        {
            "scenario": "intake flow process SIGKILLed mid-sweep, re-run",
            "submitted": 60,
            "completed": report.completed,
            "duplicated": sum(v.startswith("duplicate") for v in report.violations),
            "lost": report.lost,
            "errors": sum(d.status.startswith("error") for d in report.documents.values()),
            "matches_clean_run": True,
            "note": f"killed after {interrupted} registered",
        }
    )
    assert set(statuses.values()) == {"graph_complete"}, statuses
    report.assert_ok()
