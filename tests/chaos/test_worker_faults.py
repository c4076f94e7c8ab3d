"""Worker faults: killed children, warm shutdowns, duplicate deliveries and a poison message."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter

import pytest

from docflow import services
from tests.support.chaos import record, settle
from tests.support.pipeline import submit_all, wait_for_status, wait_terminal

pytestmark = [pytest.mark.chaos, pytest.mark.services, pytest.mark.workers, pytest.mark.slow]


def test_pool_child_sigkilled_mid_ocr_is_redelivered_at_once(
    stack, chaos_workers, chaos_files, clean_reference, project
):
    # GIVEN one worker process working on a 6-page scan
    chaos_workers.start(concurrency=1)
    ids = submit_all(chaos_files.all, project)
    wait_for_status(ids[0], {"ocr_processing"})
    time.sleep(1.0)
    # WHEN its pool child is SIGKILLed mid-OCR
    children = chaos_workers.children()
    assert children, "the worker has no pool child"
    for child in children:
        child.send_signal(signal.SIGKILL)
    # THEN the message is requeued at once (late ack + reject on worker lost) and everything completes
    report = settle("worker child SIGKILL mid-task", settings=stack, project_id=project, ids=ids, clean=clean_reference)
    assert report.documents[_sha(chaos_files.scan)].attempts["ocr"] == 2


def test_warm_shutdown_finishes_the_current_task_and_leaves_the_rest_queued(
    stack, chaos_workers, chaos_files, clean_reference, project
):
    chaos_workers.start(concurrency=1)
    ids = submit_all(chaos_files.all, project)
    wait_for_status(ids[0], {"ocr_processing"})
    # WHEN the worker gets SIGTERM mid-task (warm shutdown)
    began = time.monotonic()
    chaos_workers.stop(timeout=120)
    # THEN it finished the running OCR task before exiting, and nothing was lost
    assert time.monotonic() - began > 0.5
    from docflow.ops.progress import current_statuses

    assert current_statuses([ids[0]])[ids[0]][0] in {"ocr_complete", "text_processing"}
    # WHEN a worker comes back THEN the rest is processed
    chaos_workers.start(concurrency=2)
    settle(
        "worker SIGTERM (warm shutdown) mid-task", settings=stack, project_id=project, ids=ids, clean=clean_reference
    )


def test_a_duplicate_delivery_has_no_duplicate_effect(stack, chaos_workers, chaos_files, clean_reference, project):
    """What Redis does when a task outlives the visibility timeout: the same message twice."""
    from docflow.core.broker import redis_client

    # GIVEN the scan's OCR message waiting in Redis (no worker yet), duplicated byte for byte
    ids = submit_all([chaos_files.scan], project)
    client = redis_client(stack)
    raw = client.lrange(stack.queue_ocr, 0, -1)
    mine = [m for m in raw if str(ids[0]).encode() in m and b"ocr.process_document" in m]
    assert mine, "the OCR message is not in the queue"
    client.lpush(stack.queue_ocr, mine[0])
    # WHEN two worker processes take both copies at once
    chaos_workers.start(concurrency=2)
    statuses = wait_terminal(ids)
    # THEN the document completes once: one set of chunks, entities, nodes and edges
    report = record(
        "duplicate delivery (task outlives visibility timeout)",
        settings=stack,
        project_id=project,
        clean=_only(clean_reference, chaos_files.scan),
        submitted=1,
    )
    assert statuses == {ids[0]: "graph_complete"}
    report.assert_ok()


def test_a_poison_message_stops_after_bounded_deliveries_and_the_queue_keeps_moving(
    stack, chaos_workers, chaos_files, clean_reference, project
):
    from docflow.ops.progress import current_statuses

    # GIVEN a document whose OCR kills its worker process every time (a killer plays the crash)
    chaos_workers.start(concurrency=1)
    ids = submit_all(chaos_files.all, project)
    poison = ids[0]
    kills = []
    stop = threading.Event()

    def deliveries() -> int:
        from sqlalchemy import text

        from docflow.core.db import session_scope

        with session_scope() as session:
            return session.execute(
                text("SELECT coalesce(max(deliveries), 0) FROM stage_runs WHERE document_id = :d AND stage = 'ocr'"),
                {"d": poison},
            ).scalar_one()

    def killer() -> None:
        # Kill the (single) pool child right after each new delivery of the poison has started,
        # until the poison guard takes over (delivery max_deliveries + 1 never runs the work).
        seen = 0
        while not stop.is_set():
            count = deliveries()
            if count > seen:
                seen = count
                if count > stack.max_deliveries:
                    return
                time.sleep(0.3)
                for child in chaos_workers.children():
                    child.send_signal(signal.SIGKILL)
                    kills.append(child.pid)
            time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        status = wait_for_status(poison, {"error_ocr", "graph_complete"}, timeout_s=180)
    finally:
        stop.set()
        thread.join(timeout=5)
    # THEN after max_deliveries it ends in error_ocr with the reason, and the others complete
    statuses = wait_terminal(ids)
    assert status == "error_ocr"
    error = current_statuses([poison])[poison][1]
    assert "poison message" in error and f"{stack.max_deliveries} times" in error
    assert len(kills) >= stack.max_deliveries
    report = record(
        "poison message kills its worker every time",
        settings=stack,
        project_id=project,
        clean=clean_reference,
        submitted=len(ids),
        expect_complete=len(ids) - 1,
        note=f"{len(kills)} kills, then error_ocr",
    )
    assert [statuses[i] for i in ids[1:]] == ["graph_complete"] * (len(ids) - 1)
    report.assert_ok()
    assert chaos_workers.pid() is not None  # the worker itself survived


def _sha(path) -> str:
    from docflow.core.storage import sha256_file

    return sha256_file(path)


def _only(reference, path):
    from tests.support.invariants import InvariantReport

    sha = _sha(path)
    return InvariantReport(documents={sha: reference.documents[sha]})


def test_pool_children_sigkilled_mid_batch_lose_and_duplicate_nothing(stack, chaos_workers, project, tmp_path):
    from docflow.core.broker import get_app
    from docflow.core.db import fetch_all
    from docflow.core.status import ENTRY, Stage
    from docflow.services.process import read_pid
    from tests.support.invariants import check_project

    # GIVEN many small documents (stages run them in batches), and their clean run in a project of its own
    files = []
    for n in range(48):
        path = tmp_path / f"note-{n:02d}.txt"
        path.write_text(
            f"Note {n}: Maria Gonzalez met Daniel Okafor of Acme Logistics in Rotterdam about invoice {n}.\n"
        )
        files.append(path)
    chaos_workers.start(concurrency=2)
    clean_ids = submit_all(files, f"{project}-clean")
    assert set(wait_terminal(clean_ids).values()) == {"graph_complete"}
    clean = check_project(stack, f"{project}-clean", expected_documents=len(files))
    clean.assert_ok()
    # WHEN the same files run again up to the graph stage, whose messages wait (no worker consumes its
    # queue), then Neo4j is frozen and a graph worker starts: it takes the waiting messages in full
    # batches, each held in its write (past its claim, each delivery counted), and the pool child
    # running one is SIGKILLed (the worker reports every member of a batch as active, started by the
    # same process at the same moment). Waiting on the queue first makes the batch certain: graph
    # messages arriving one by one would run alone, and the first to time out opens Neo4j's breaker.
    chaos_workers.stop()
    graph_queue = stack.queue_for(Stage.GRAPH)
    chaos_workers.start(concurrency=2, queues=[q for q in stack.queues.values() if q != graph_queue])
    ids = submit_all(files, project)
    for document_id in ids:
        wait_for_status(document_id, {ENTRY[Stage.GRAPH].value}, timeout_s=240)  # its message waits
    neo4j = services.Neo4j(stack)
    neo4j_pid = read_pid(neo4j.paths.pidfile(neo4j.name), neo4j.marker)
    assert neo4j_pid, "the test stack's Neo4j is not running"
    control = get_app().control
    killed: list[int] = []
    os.kill(neo4j_pid, signal.SIGSTOP)
    try:
        chaos_workers.start(name="chaos-graph", concurrency=2, queues=[graph_queue])
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            active = (control.inspect(timeout=0.5).active() or {}).values()
            jobs = Counter(
                (task["worker_pid"], task["time_start"])
                for tasks in active
                for task in tasks
                if task["name"] == Stage.GRAPH.task_name and task["time_start"]
            )
            held = [(pid, n) for (pid, started), n in jobs.items() if n >= 2 and time.time() - started > 1.0]
            if held:
                os.kill(held[0][0], signal.SIGKILL)
                killed.append(held[0][1])
    finally:
        os.kill(neo4j_pid, signal.SIGCONT)
    # THEN every batch member is requeued at once, runs again alone, and everything completes as cleanly
    wait_terminal(ids)
    ((redelivered,),) = fetch_all(
        "SELECT count(*) FROM stage_runs r JOIN source_documents d ON d.id = r.document_id "
        "WHERE d.project_id = %(p)s AND r.deliveries > 1",
        {"p": project},
    )
    settle(
        "pool child SIGKILLed mid-batch (graph batch held by a frozen Neo4j)",
        settings=stack,
        project_id=project,
        ids=ids,
        clean=clean,
        note=f"a batch of {killed[0] if killed else 0} killed; {redelivered} deliveries counted twice",
    )
    assert killed and redelivered >= killed[0], "no batch was interrupted: the scenario tested nothing"
