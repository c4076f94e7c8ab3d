"""Service faults: Redis, PostgreSQL, Neo4j and the object store going away and coming back."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import time

import pytest

from docflow import services
from tests.support.chaos import record, settle, subset
from tests.support.intake import settled_intake_folder
from tests.support.pipeline import submit_all, wait_for_status, wait_terminal

pytestmark = [pytest.mark.chaos, pytest.mark.services, pytest.mark.workers, pytest.mark.slow]


def test_redis_restarted_cleanly_keeps_queued_work(stack, chaos_workers, chaos_files, clean_reference, project):
    from docflow.core.broker import queue_lengths, redis_client

    # GIVEN documents queued in Redis and no worker consuming
    ids = submit_all(chaos_files.all, project)
    before = queue_lengths(redis_client(stack), [stack.queue_ocr])[stack.queue_ocr]
    assert before >= len(ids)
    # WHEN Redis is stopped cleanly and started again (AOF on)
    redis = services.Redis(stack)
    redis.stop()
    redis.start()
    # THEN the queued messages are still there, and a worker completes them
    assert queue_lengths(redis_client(stack), [stack.queue_ocr])[stack.queue_ocr] == before
    chaos_workers.start(concurrency=2)
    settle("Redis restarted cleanly (AOF)", settings=stack, project_id=project, ids=ids, clean=clean_reference)


def test_postgres_stopped_abruptly_mid_task_then_restarted(stack, chaos_workers, chaos_files, clean_reference, project):
    from docflow.core import db

    chaos_workers.start(concurrency=2)
    ids = submit_all(chaos_files.all, project)
    wait_for_status(ids[0], {"ocr_processing"})
    # WHEN PostgreSQL dies without a clean shutdown (immediate mode) mid-OCR, for a few seconds
    postgres = services.Postgres(stack)
    import subprocess

    subprocess.run(
        [str(postgres.bin("pg_ctl")), "-D", str(postgres.pgdata), "-m", "immediate", "stop"],
        check=True,
        capture_output=True,
        **postgres._as_service_user(),
    )
    time.sleep(4)
    postgres.start()
    db.reset_engine()
    # THEN the tasks that hit the outage retry and everything completes, with no partial rows
    settle("PostgreSQL stopped abruptly mid-task", settings=stack, project_id=project, ids=ids, clean=clean_reference)


def test_neo4j_down_during_the_graph_stage(stack, chaos_workers, chaos_files, clean_reference, project):
    from docflow.ops.progress import current_statuses

    neo4j = services.Neo4j(stack)
    neo4j.stop()
    try:
        chaos_workers.start(concurrency=2)
        ids = submit_all(chaos_files.small, project)
        # the documents wait in the graph stage, in retry
        for document_id in ids:
            wait_for_status(document_id, {"graph_processing"}, timeout_s=120)
        time.sleep(2)
        assert {current_statuses(ids)[d][0] for d in ids} == {"graph_processing"}
    finally:
        neo4j.start()
    settle(
        "Neo4j down during the graph stage",
        settings=stack,
        project_id=project,
        ids=ids,
        clean=subset(clean_reference, chaos_files.small),
    )


def test_object_store_down_during_ocr(stack, chaos_workers, chaos_files, clean_reference, project):
    # GIVEN queued documents whose originals are stored
    ids = submit_all(chaos_files.small, project)
    s3 = services.ObjectStore(stack)
    # WHEN the object store is down while OCR starts
    s3.stop()
    try:
        chaos_workers.start(concurrency=2)
        wait_for_status(ids[0], {"ocr_processing"})
        time.sleep(3)
    finally:
        s3.start()
    # THEN OCR retried and completes once the store is back
    settle(
        "object store down during OCR",
        settings=stack,
        project_id=project,
        ids=ids,
        clean=subset(clean_reference, chaos_files.small),
    )


def test_object_store_down_during_intake(stack, chaos_workers, chaos_files, clean_reference, project, tmp_path):

    from docflow.core.errors import TransientError
    from docflow.ops import intake

    folder = settled_intake_folder(tmp_path / "intake", chaos_files.small)
    options = intake.SweepOptions(source=str(folder), project_id=project, stable_seconds=5)
    s3 = services.ObjectStore(stack)
    # WHEN the store is down during a sweep THEN the sweep fails loudly and registers nothing
    s3.stop()
    try:
        with pytest.raises(TransientError, match="object store"):
            intake.sweep(options, stack)
    finally:
        s3.start()
    # AND the next sweep takes every file, which completes
    report = intake.sweep(options, stack)
    assert report.counts()["new"] == len(chaos_files.small)
    chaos_workers.start(concurrency=2)
    statuses = wait_terminal(report.new_document_ids())
    result = record(
        "object store down during intake",
        settings=stack,
        project_id=project,
        clean=subset(clean_reference, chaos_files.small),
        submitted=len(chaos_files.small),
    )
    assert set(statuses.values()) == {"graph_complete"}, statuses
    result.assert_ok()


def test_same_document_submitted_concurrently(stack, chaos_workers, chaos_files, clean_reference, project):
    from docflow.ops.submit import ingest_file

    chaos_workers.start(concurrency=2)
    # WHEN the same two files are submitted by 8 threads at once
    files = [chaos_files.small[0], chaos_files.small[1]] * 4
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda path: ingest_file(path=path, project_id=project), files))
    ids = sorted({r.document_id for r in results})
    assert len(ids) == 2 and sum(r.created for r in results) == 2
    settle(
        "same document submitted concurrently (x4)",
        settings=stack,
        project_id=project,
        ids=ids,
        clean=subset(clean_reference, chaos_files.small[:2]),
    )


# The freeze: Neo4j stopped (SIGSTOP: its sockets stay open, it answers nothing) for two minutes.
FREEZE_S = 120.0


def test_neo4j_frozen_for_two_minutes_holds_no_worker(stack, chaos_workers, chaos_files, clean_reference, project):
    from docflow.core.breaker import Store, read_breakers
    from docflow.core.broker import redis_client
    from docflow.ops.monitor import snapshot
    from docflow.ops.progress import current_statuses
    from docflow.ops.reconcile import run_reconcile
    from docflow.services.process import read_pid

    neo4j = services.Neo4j(stack)
    pid = read_pid(neo4j.paths.pidfile(neo4j.name), neo4j.marker)
    assert pid, "the test stack's Neo4j is not running"
    chaos_workers.start(concurrency=2)
    # GIVEN Neo4j frozen, then small documents (soon at the graph stage) and a 6-page scan (OCR work)
    os.kill(pid, signal.SIGSTOP)
    frozen = time.monotonic()
    try:
        small = submit_all(chaos_files.small, project)
        (scan,) = submit_all([chaos_files.scan], project)
        # THEN the scan is read while Neo4j stays frozen: no worker process is held by the graph stage
        wait_for_status(
            scan, {"ocr_complete", "text_processing", "text_complete", "entity_processing", "entity_complete"}
        )
        scanned_after = time.monotonic() - frozen
        # AND the documents that need Neo4j wait before it, their breaker open for every worker to see
        for document_id in small:
            wait_for_status(document_id, {"entity_complete", "graph_processing"}, timeout_s=FREEZE_S)
        # (it opens when the first graph write gives up on the frozen server: its 5-9 s deadlines)
        opened_by = time.monotonic() + 30
        while not read_breakers(redis_client(stack))[Store.NEO4J].is_open and time.monotonic() < opened_by:
            time.sleep(0.2)
        assert read_breakers(redis_client(stack))[Store.NEO4J].is_open
        assert snapshot(stack, include_workers=False).breakers["neo4j"]["waiting"] == "the graph stage waits"
        # AND a deferred document is neither LOST nor STUCK to reconcile (its message is held, scheduled)
        time.sleep(max(0.0, FREEZE_S - 20 - (time.monotonic() - frozen)))  # into the freeze's last stretch
        report = run_reconcile(stack, grace_period_s=5, stuck_threshold_s=10, project_id=project, inspect_timeout_s=2)
        assert report.counts.get("LOST", 0) == 0 and report.counts.get("STUCK", 0) == 0, report.counts
        waiting = {status for status, _error in current_statuses(small).values()}
        time.sleep(max(0.0, FREEZE_S - (time.monotonic() - frozen)))
    finally:
        os.kill(pid, signal.SIGCONT)
    thawed = time.monotonic()
    # WHEN it thaws THEN everything completes exactly as in a clean run: nothing lost, nothing twice
    ids = [*small, scan]
    statuses = wait_terminal(ids)
    settle(
        f"Neo4j frozen (SIGSTOP) for {FREEZE_S:.0f}s with OCR work queued",
        settings=stack,
        project_id=project,
        ids=ids,
        clean=clean_reference,
        note=(
            f"scan read {scanned_after:.1f}s into the freeze; graph documents waited as {sorted(waiting)}; "
            f"all graph_complete {time.monotonic() - thawed:.1f}s after the thaw ({sorted(set(statuses.values()))})"
        ),
    )
