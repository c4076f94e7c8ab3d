"""Reconcile against the real stack: PostgreSQL rows, Redis lists and hashes, live worker processes.

Every scenario keeps its data in its own project id and, where it needs a queue nobody consumes,
in its own queue names (a settings override), so the shared session worker and other tests are
never disturbed. Unfiltered reconciles are only ever *repaired* through findings filtered to
this test's own documents.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import socket
import time
import uuid

import psutil
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from docflow.core.broker import UNACKED_HASH, UNACKED_INDEX, queue_keys, redis_client
from docflow.core.db import session_scope
from docflow.core.graph import GraphStore
from docflow.core.models import Chunk, SourceDocument, StageRun
from docflow.ops import reconcile as rc
from docflow.ops.progress import wait_for_documents
from docflow.ops.submit import ingest_file
from tests.support.queues import declare_queue, with_queues

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

TIMEOUT_S = 90


def _rows(project_id: str) -> dict[int, SourceDocument]:
    with session_scope() as session:
        docs = session.execute(select(SourceDocument).where(SourceDocument.project_id == project_id)).scalars()
        return {doc.id: doc for doc in docs}


def _ids(report, kind: str) -> set[int]:
    return {f["document_id"] for f in report.of_kind(kind)}


def _assert_nothing_duplicated(settings, document_ids) -> None:
    """One chunk per index in PostgreSQL, the same chunks in Neo4j, one Document node, one OCR success."""
    for document_id in document_ids:
        with session_scope() as session:
            document = session.get(SourceDocument, document_id)
            chunks, distinct = session.execute(
                select(func.count(), func.count(func.distinct(Chunk.chunk_index))).where(
                    Chunk.document_id == document_id
                )
            ).one()
            ocr_successes = session.scalar(
                select(func.count()).where(
                    StageRun.document_id == document_id, StageRun.stage == "ocr", StageRun.outcome == "succeeded"
                )
            )
        assert chunks >= 1 and chunks == distinct
        assert ocr_successes == 1
        with GraphStore(settings) as graph:
            nodes = graph.query(
                "MATCH (d:Document {uuid: $uuid}) RETURN count(d) AS n", uuid=str(document.document_uuid)
            )
            counts = graph.document_counts(str(document.document_uuid))
        assert nodes == [{"n": 1}] and counts["chunks"] == chunks


def _wait_for_status(document_id: int, wanted: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    status = ""
    while time.monotonic() < deadline:
        with session_scope() as session:
            status = session.scalar(select(SourceDocument.celery_status).where(SourceDocument.id == document_id))
        if status == wanted or status in ("graph_complete",) or status.startswith("error"):
            return status
        time.sleep(0.05)
    return status


# -- (a) Redis loses the queue while documents are queued ------------------------------------------------


def test_documents_whose_queue_was_wiped_are_lost_then_redriven_to_graph_complete(workers, sample_files, project_id):
    good, _bad = sample_files
    lonely = f"ocr_wiped_{uuid.uuid4().hex[:8]}"
    declare_queue(lonely)
    client = redis_client(workers)
    names = ("field_notes.txt", "partner_email.eml", "born_digital.pdf")
    # GIVEN three documents queued for OCR on a queue nobody consumes yet
    ids = [
        ingest_file(path=good[name], project_id=project_id, settings=with_queues(workers, ocr=lonely)).document_id
        for name in names
    ]
    assert client.llen(lonely) == 3
    # WHEN Redis loses that data (the queue is wiped) while the rows say ocr_queued
    client.delete(*queue_keys(lonely))
    time.sleep(1.2)
    report = rc.run_reconcile(workers, project_id=project_id, grace_period_s=1, stuck_threshold_s=60)
    # THEN reconcile reports exactly those documents LOST, and nothing else
    assert _ids(report, "LOST") == set(ids)
    assert {f["kind"] for f in report.findings} == {"LOST"} and report.in_flight == 3
    assert all("no message" in f["detail"] and f["status"] == "ocr_queued" for f in report.findings)
    # WHEN repaired
    repaired = rc.run_reconcile(
        workers, project_id=project_id, grace_period_s=1, stuck_threshold_s=60, repair_problems=True
    )
    # THEN each is re-driven once, recorded on the stage log, and all reach graph_complete
    assert sorted(a["document_id"] for a in repaired.actions if a["action"] == "redrive" and a["ok"]) == sorted(ids)
    assert wait_for_documents(ids, timeout_s=TIMEOUT_S) == dict.fromkeys(ids, "graph_complete")
    rows = _rows(project_id)
    assert all(rows[d].redrive_count == 1 for d in ids)
    # AND the OCR that ran is the re-driven task (its stage run carries the re-drive's queued time)
    new_tasks = {a["new_task_id"] for a in repaired.actions}
    with session_scope() as session:
        ran = session.execute(
            select(StageRun.celery_task_id, StageRun.queued_at).where(
                StageRun.document_id.in_(ids), StageRun.stage == "ocr", StageRun.outcome == "succeeded"
            )
        ).all()
    assert {task for task, _ in ran} == new_tasks and all(queued for _, queued in ran)
    # AND nothing is duplicated in PostgreSQL or Neo4j
    _assert_nothing_duplicated(workers, ids)
    # AND a second reconcile finds nothing left to do
    after = rc.run_reconcile(workers, project_id=project_id, grace_period_s=1, stuck_threshold_s=60)
    assert after.healthy and after.in_flight == 0


# -- (b) a worker killed with SIGKILL mid-OCR ---------------------------------------------------------------


def _long_scan(directory, pages: int = 6):
    """A scanned (image-only) PDF of several pages: OCR takes seconds, long enough to kill it mid-way."""
    import pypdfium2 as pdfium

    from docflow.samples import write_samples

    scanned = next(p for p in write_samples(directory=directory) if p.name == "scanned_letter.pdf")
    source = pdfium.PdfDocument(scanned)
    merged = pdfium.PdfDocument.new()
    for _ in range(pages):
        merged.import_pages(source)
    buffer = io.BytesIO()
    merged.save(buffer)
    path = directory / f"long_scan_{uuid.uuid4().hex[:6]}.pdf"
    path.write_bytes(buffer.getvalue())
    return path


def _wait_for_worker(name: str, timeout_s: float = 60) -> None:
    from tasks.celery_app import app

    node = f"docflow-{name}@{socket.gethostname()}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if app.control.ping(destination=[node], timeout=1.0):
            return
    raise TimeoutError(f"worker {node} did not answer")


def _sigkill_tree(pid: int) -> None:
    """SIGKILL the worker's main process first (so it cannot requeue), then its children."""
    parent = psutil.Process(pid)
    children = parent.children(recursive=True)
    os.kill(pid, signal.SIGKILL)
    for child in children:
        try:
            os.kill(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    psutil.wait_procs([parent, *children], timeout=10)


def test_a_worker_killed_mid_ocr_is_reported_stuck_and_repair_completes_it(workers, project_id, tmp_path):
    from docflow.services import Paths
    from docflow.services import workers as worker_processes

    queue = f"ocr_killtest_{uuid.uuid4().hex[:8]}"
    name = f"killtest-{uuid.uuid4().hex[:6]}"
    declare_queue(queue)
    path = _long_scan(tmp_path)
    client = redis_client(workers)
    # GIVEN a dedicated worker, the only consumer of its own OCR queue
    pid = worker_processes.start(
        workers, name=name, queues=[queue], concurrency=1, env={"DOCFLOW_QUEUE_OCR": queue}, echo=lambda _line: None
    )
    try:
        _wait_for_worker(name)
        document_id = ingest_file(
            path=path, project_id=project_id, settings=with_queues(workers, ocr=queue)
        ).document_id
        # WHEN it is killed with SIGKILL while the document is in OCR
        assert _wait_for_status(document_id, "ocr_processing", timeout_s=60) == "ocr_processing"
        _sigkill_tree(pid)
    finally:
        if psutil.pid_exists(pid):
            _sigkill_tree(pid)
        Paths(workers).pidfile(f"worker-{name}").unlink(missing_ok=True)
    try:
        assert _rows(project_id)[document_id].celery_status == "ocr_processing", "OCR finished before the kill"
        time.sleep(2.2)
        report = rc.run_reconcile(workers, project_id=project_id, grace_period_s=1, stuck_threshold_s=2)
        # THEN the report says which: STUCK (its delivery is stranded in unacked) or recovering by redelivery
        stuck, recovering = _ids(report, "STUCK"), {f["document_id"] for f in report.recovering}
        assert document_id in stuck | recovering
        assert document_id in stuck, f"expected STUCK after killing the whole worker: {report.markdown()}"
        finding = report.of_kind("STUCK")[0]
        assert finding["worker"] == f"docflow-{name}@{socket.gethostname()}"
        assert finding["locations"][0].startswith("unacked:")
        # WHEN repaired THEN it is re-driven to the shared workers and ends complete, processed once
        repaired = rc.run_reconcile(
            workers, project_id=project_id, grace_period_s=1, stuck_threshold_s=2, repair_problems=True
        )
        assert [(a["action"], a["kind"], a["ok"]) for a in repaired.actions] == [("redrive", "STUCK", True)]
        assert wait_for_documents([document_id], timeout_s=TIMEOUT_S) == {document_id: "graph_complete"}
        _assert_nothing_duplicated(workers, [document_id])
        # AND the dead worker's stranded delivery (still in the unacked hash) is now an ORPHAN of a terminal
        # document, which repair reports but never removes
        time.sleep(1.2)
        leftover = rc.run_reconcile(
            with_queues(workers, ocr=queue),
            project_id=project_id,
            grace_period_s=1,
            stuck_threshold_s=2,
            repair_problems=True,
        )
        orphans = leftover.of_kind("ORPHAN")
        assert [o["document_id"] for o in orphans] == [document_id]
        assert orphans[0]["locations"][0].startswith("unacked:")
        assert [a["action"] for a in leftover.actions] == ["skip"]
    finally:
        _drop_unacked_for(client, queue)
        client.delete(*queue_keys(queue))


def _drop_unacked_for(client, routing_key: str) -> None:
    """Test cleanup only: remove the dead worker's stranded delivery for this test's queue."""
    import json

    for tag, raw in client.hgetall(UNACKED_HASH).items():
        try:
            if json.loads(raw)[2] == routing_key:
                client.hdel(UNACKED_HASH, tag)
                client.zrem(UNACKED_INDEX, tag)
        except (ValueError, IndexError):
            continue


# -- (c) a message for a document that does not exist -------------------------------------------------------


def test_a_message_for_an_unknown_document_is_an_orphan_and_repair_removes_it(stack):
    from tasks.celery_app import app

    queue = f"ocr_orphan_{uuid.uuid4().hex[:8]}"
    declare_queue(queue)
    settings = with_queues(stack, ocr=queue)
    client = redis_client(stack)
    with session_scope() as session:
        unknown = (session.scalar(select(func.max(SourceDocument.id))) or 0) + 10_000_000
    task_id = f"orphan-{uuid.uuid4()}"
    # GIVEN a genuine Celery OCR message for a document id that has no row
    app.send_task("ocr.process_document", args=[unknown], task_id=task_id, queue=queue)
    try:
        snapshot = rc.gather(settings, inspect_timeout_s=1.0)
        classification = rc.classify(snapshot, grace_period_s=1, stuck_threshold_s=60)
        # THEN the unfiltered reconcile reports it ORPHAN, waiting and removable
        mine = [f for f in classification.findings if f.document_id == unknown]
        assert [(f.kind, f.task_id, f.document_uuid) for f in mine] == [("ORPHAN", task_id, None)]
        assert "unknown document" in mine[0].detail and mine[0].locations == (f"waiting:{queue}",)
        # WHEN repaired (only this test's finding: other tests' documents are not ours to re-drive)
        classification.findings = mine
        actions = rc.repair(snapshot, classification, settings=settings, max_repairs=10)
        # THEN exactly that message is removed from the list, and a new reconcile no longer sees it
        assert [(a.action, a.ok) for a in actions] == [("remove_message", True)]
        assert client.llen(queue) == 0
        again = rc.classify(rc.gather(settings, inspect_timeout_s=1.0), grace_period_s=1, stuck_threshold_s=60)
        assert not [f for f in again.findings if f.document_id == unknown]
    finally:
        client.delete(*queue_keys(queue))


# -- (d) a healthy run --------------------------------------------------------------------------------------


def test_a_healthy_pipeline_reports_all_ok_in_flight_and_after(workers, sample_files, project_id):
    from typer.testing import CliRunner

    from docflow.cli import app
    from docflow.ops import monitor

    good, _bad = sample_files
    # GIVEN documents submitted to the running workers
    ids = [
        ingest_file(path=good[name], project_id=project_id).document_id
        for name in ("field_notes.txt", "board_minutes.docx")
    ]
    # WHEN reconciled while they are in flight THEN nothing is wrong
    during = rc.run_reconcile(workers, project_id=project_id)
    assert during.findings == [] and during.ok == during.in_flight
    assert wait_for_documents(ids, timeout_s=TIMEOUT_S) == dict.fromkeys(ids, "graph_complete")
    # AND once they are done, the report is all OK with nothing in flight, also through the CLI
    after = rc.run_reconcile(workers, project_id=project_id, grace_period_s=1)
    assert after.healthy and after.in_flight == 0 and after.workers
    assert "**all OK**" in after.markdown()
    result = CliRunner().invoke(app, ["reconcile", "--json", "--project", project_id, "--grace", "1"])
    assert result.exit_code == 0, result.output
    assert '"healthy": true' in result.output
    # AND the monitor sees the workers and the completed documents
    snap = monitor.snapshot(workers, window_minutes=10)
    assert snap.workers and snap.statuses.get("graph_complete", 0) >= 2 and not snap.problems
    assert snap.latency["ocr"]["runs"] >= 2 and snap.latency["ocr"]["p95"] >= snap.latency["ocr"]["p50"]


# -- health ---------------------------------------------------------------------------------------------------


def test_health_is_unhealthy_when_a_queue_has_work_and_no_worker_or_exceeds_the_threshold(stack):
    from docflow.ops import monitor
    from tasks.celery_app import app

    queue = f"ocr_health_{uuid.uuid4().hex[:8]}"
    declare_queue(queue)
    settings = with_queues(stack, ocr=queue).model_copy(update={"health_queue_threshold": 1})
    client = redis_client(stack)
    # GIVEN two messages in an OCR queue that no worker consumes, and a threshold of 1
    for _ in range(2):
        app.send_task("ocr.process_document", args=[0], task_id=f"health-{uuid.uuid4()}", queue=queue)
    try:
        healthy, reasons = monitor.health(settings, inspect_timeout_s=1.0)
        # THEN health says unhealthy, with both reasons
        assert not healthy
        assert any("above the threshold of 1" in r for r in reasons)
        assert any(queue in r and "no worker consuming it" in r for r in reasons)
    finally:
        client.delete(*queue_keys(queue))
    # AND an empty queue set with a healthy Redis and database is healthy
    empty = with_queues(stack, **{stage: f"empty_{uuid.uuid4().hex[:6]}_{stage}" for stage in stack.queues})
    assert monitor.health(empty, inspect_timeout_s=0.5) == (True, [])
    # AND an unreachable Redis is a reason, not an exception
    dead = empty.model_copy(update={"redis_url": SecretStr("redis://127.0.0.1:1/0"), "redis_socket_timeout_s": 0.5})
    healthy, reasons = monitor.health(dead)
    assert not healthy and reasons[0].startswith("redis unreachable")


# -- quiet rows: classified in PostgreSQL, listed up to a limit ------------------------------------------------


def _insert_in_flight(project_id: str, rows: list[tuple[str, str]]) -> list[tuple[int, str]]:
    """Rows straight into source_documents: (status, updated ``now`` or ``old``) -> (id, task id)."""
    from docflow.core.db import get_engine
    from docflow.core.status import coarse

    made = []
    with get_engine().begin() as connection:
        for n, (status, when) in enumerate(rows):
            task_id = str(uuid.uuid4())
            made.append(
                (
                    connection.exec_driver_sql(
                        "INSERT INTO source_documents (document_uuid, project_id, original_file_name, sha256, "
                        "size_bytes, celery_status, initial_processing_status, celery_task_id, created_at, "
                        "updated_at, ocr_attempts, text_attempts, entity_attempts, graph_attempts, redrive_count) "
                        "VALUES (gen_random_uuid(), %(project)s, %(name)s, %(sha)s, 1, %(status)s, %(coarse)s, "
                        "%(task)s, now(), now() - %(age)s * interval '1 second', 0, 0, 0, 0, 0) RETURNING id",
                        {
                            "project": project_id,
                            "name": f"quiet-{project_id}-{n}",
                            "sha": hashlib.sha256(f"quiet-{project_id}-{n}".encode()).hexdigest(),
                            "status": status,
                            "coarse": coarse(status).value,
                            "task": task_id,
                            "age": 3600 if when == "old" else 0,
                        },
                    ).scalar_one(),
                    task_id,
                )
            )
    return made


def test_rows_no_message_names_are_classified_in_postgresql_counted_exactly_and_listed_first_by_id(stack, project_id):
    from docflow.core.db import get_engine
    from tasks.celery_app import app

    queue = f"ocr_quiet_{uuid.uuid4().hex[:8]}"
    declare_queue(queue)
    settings = with_queues(stack, ocr=queue)
    client = redis_client(stack)
    # GIVEN seven in-flight rows: A with its own message waiting, B with only a stale one, C-F with
    # nothing anywhere for an hour, G with nothing but updated just now
    statuses = ["ocr_queued"] * 4 + ["text_processing", "graph_processing", "ocr_queued"]
    made = _insert_in_flight(project_id, [(s, "old") for s in statuses[:6]] + [(statuses[6], "now")])
    (a, task_a), (b, _task_b), (c, _), *_rest = made
    app.send_task("ocr.process_document", args=[a], task_id=task_a, queue=queue)
    app.send_task("ocr.process_document", args=[b], task_id=f"stale-{uuid.uuid4()}", queue=queue)
    try:
        # WHEN gathered with the grace period (PostgreSQL classifies C-G) and a listing limit of 2,
        # and, to compare, without (every row read and classified in Python)
        capped = rc.gather(settings, project_id=project_id, inspect=False, grace_period_s=60, lost_limit=2)
        full = rc.gather(settings, project_id=project_id, inspect=False)
        got, want = (rc.classify(s, grace_period_s=60, stuck_threshold_s=300) for s in (capped, full))
        # THEN both agree on every count; only A and B were read in full
        assert sorted(r.id for r in capped.rows) == [a, b] and capped.quiet and capped.quiet.total == 5
        assert got.counts == want.counts and got.counts["LOST"] == 5 and got.counts["MISMATCH"] == 1
        assert (got.ok, got.in_flight) == (want.ok, want.in_flight) == (2, 7)
        assert [s.__dict__ for s in got.stages] == [s.__dict__ for s in want.stages]
        # AND the LOST listed are the first two by id (B beside its stale message, then C), 3 counted only
        assert [f.document_id for f in got.findings if f.kind == "LOST"] == [b, c] and got.unlisted["LOST"] == 3
        # AND the report through run_reconcile says the same
        report = rc.run_reconcile(settings, project_id=project_id, grace_period_s=60)
        assert report.counts["LOST"] == 5 and len(report.of_kind("LOST")) == 5 and not report.unlisted
        # WHEN repaired from the capped snapshot THEN the listed are re-driven, the rest left for the next run
        actions = rc.repair(capped, got, settings=settings, max_repairs=10)
        assert sorted((x.document_id, x.ok) for x in actions if x.action == "redrive") == [(b, True), (c, True)]
        assert actions[-1].detail == "3 LOST not listed in this snapshot left for the next run"
    finally:
        client.delete(*queue_keys(queue))
        with get_engine().begin() as connection:
            connection.exec_driver_sql("DELETE FROM source_documents WHERE project_id = %(p)s", {"p": project_id})
