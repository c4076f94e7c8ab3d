"""Reconcile classification on constructed snapshots (pure logic: no services)."""

from __future__ import annotations

import base64
import json

import pytest

from docflow.ops.reconcile import (
    DocumentState,
    HeldTask,
    Kind,
    Message,
    QuietRows,
    Snapshot,
    build_report,
    classify,
    decode_envelope,
)
from docflow.ops.reconcile.messages import decode_unacked, decode_waiting

pytestmark = pytest.mark.unit

QUEUES = {"ocr": "ocr", "text": "text", "entity": "entity", "graph": "graph"}
OCR, TEXT = "ocr.process_document", "text.chunk_document"
GRACE, STUCK = 60.0, 300.0


def envelope(task_id: str, task: str, document_id, *, protocol: int = 2) -> dict:
    if protocol == 2:
        body = json.dumps([[document_id], {}, {"callbacks": None}]).encode()
        headers = {"id": task_id, "task": task, "lang": "py"}
    else:
        body = json.dumps({"id": task_id, "task": task, "args": [document_id], "kwargs": {}}).encode()
        headers = {}
    return {
        "body": base64.b64encode(body).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": headers,
        "properties": {"body_encoding": "base64", "delivery_tag": "t", "priority": 0},
    }


def waiting(task_id: str, document_id: int, task: str = OCR, queue: str = "ocr") -> Message:
    return decode_waiting(json.dumps(envelope(task_id, task, document_id)).encode(), key=queue, queue=queue)


def unacked(task_id: str, document_id: int, task: str = OCR, queue: str = "ocr") -> Message:
    raw = json.dumps([envelope(task_id, task, document_id), "", queue]).encode()
    return decode_unacked(f"tag-{task_id}", raw, delivered_at=1.0)


def row(document_id: int, status: str, task_id: str | None, age_s: float = 1000.0, project: str = "p") -> DocumentState:
    return DocumentState(document_id, f"uuid-{document_id}", project, status, task_id, age_s)


def snapshot(rows=(), messages=(), held=(), docs=None, workers=("w1@host",), project_id=None) -> Snapshot:
    return Snapshot(
        QUEUES,
        list(messages),
        list(held),
        list(workers),
        None,
        list(rows),
        docs or {},
        project_id,
        {q: sum(1 for m in messages if m.location == "waiting" and m.queue == q) for q in QUEUES.values()},
    )


def kinds(result) -> dict[int | None, list[str]]:
    found: dict[int | None, list[str]] = {}
    for f in result.findings:
        found.setdefault(f.document_id, []).append(f.kind)
    return found


def run(snap: Snapshot):
    return classify(snap, grace_period_s=GRACE, stuck_threshold_s=STUCK)


# -- decoding --------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [1, 2])
def test_a_celery_envelope_decodes_to_task_id_name_and_document(protocol):
    # GIVEN a kombu envelope of either Celery message protocol WHEN decoded THEN ids come out
    assert decode_envelope(envelope("abc", OCR, 42, protocol=protocol)) == ("abc", OCR, 42)


def test_an_undecodable_message_is_reported_not_fatal():
    # GIVEN garbage in a queue list WHEN classified
    garbage = decode_waiting(b"{not json", key="ocr", queue="ocr")
    result = run(snapshot(messages=[garbage]))
    # THEN it is listed as undecodable and nothing else is claimed about it
    assert garbage.error and result.findings == []
    assert result.undecodable[0]["key"] == "ocr" and "JSONDecodeError" in result.undecodable[0]["error"]


# -- classification ------------------------------------------------------------------------------------


def test_rows_with_their_message_waiting_unacked_or_held_are_ok():
    rows = [
        row(1, "ocr_queued", "t1"),
        row(2, "ocr_processing", "t2"),
        row(3, "ocr_complete", "t3"),
        row(4, "entity_processing", "t4", age_s=10_000),
    ]
    messages = [
        waiting("t1", 1),
        unacked("t2", 2),
        waiting("t3", 3, TEXT, "text"),
        unacked("t4", 4, "entity.extract_entities", "entity"),
    ]
    held = [
        HeldTask("w1@host", "active", "t2", OCR, 2),
        HeldTask("w1@host", "active", "t4", "entity.extract_entities", 4),
    ]
    # GIVEN every in-flight row has its task somewhere live WHEN classified
    result = run(snapshot(rows, messages, held))
    # THEN all are OK and the per-stage counts balance
    assert result.findings == [] and result.ok == 4
    stages = {s.stage: s for s in result.stages}
    assert (
        stages["ocr"].rows_waiting,
        stages["ocr"].rows_processing,
        stages["ocr"].messages_waiting,
        stages["ocr"].messages_unacked,
        stages["ocr"].held_by_workers,
    ) == (1, 1, 1, 1, 1)
    assert stages["text"].rows_waiting == 1 and stages["text"].messages_waiting == 1
    assert all(s.balanced for s in stages.values())


def test_a_queued_row_with_no_message_anywhere_is_lost_after_the_grace_period():
    # GIVEN two queued rows without messages, one older and one younger than the grace period
    result = run(snapshot([row(1, "ocr_queued", "t1"), row(2, "text_complete", "t2", age_s=5)]))
    # THEN only the old one is LOST, naming its stage and task
    assert kinds(result) == {1: ["LOST"]}
    lost = result.findings[0]
    assert lost.stage == "ocr" and lost.task_id == "t1" and "no message" in lost.detail


def test_a_processing_row_with_no_message_anywhere_is_lost():
    result = run(snapshot([row(1, "graph_processing", "t1", age_s=100)]))
    assert kinds(result) == {1: ["LOST"]}


def test_a_row_that_changed_during_the_snapshot_is_in_motion_not_lost():
    # GIVEN a row whose updated_at is newer than the snapshot start (negative age at snapshot)
    result = run(snapshot([row(1, "ocr_queued", "t1", age_s=-0.3)]))
    # THEN nothing is claimed about it
    assert result.findings == [] and result.ok == 1


def test_processing_past_the_threshold_with_only_an_unacked_copy_is_stuck():
    # GIVEN a processing row whose delivery sits in unacked but no responding worker holds it
    stuck = DocumentState(1, "uuid-1", "p", "ocr_processing", "t1", 900, worker="docflow-dead@host")
    young = row(2, "ocr_processing", "t2", age_s=100)
    result = run(snapshot([stuck, young], [unacked("t1", 1), unacked("t2", 2)]))
    # THEN the old one is STUCK (naming the worker that is gone), the young one is not judged yet
    assert kinds(result) == {1: ["STUCK"]}
    assert "docflow-dead@host" in result.findings[0].detail
    assert result.findings[0].locations == ("unacked:tag-t1",)


def test_stuck_is_flagged_as_uncertain_when_no_worker_answered():
    result = run(snapshot([row(1, "ocr_processing", "t1", age_s=900)], [unacked("t1", 1)], workers=()))
    assert kinds(result) == {1: ["STUCK"]} and "no worker answered" in result.findings[0].detail


def test_a_processing_row_whose_message_is_back_in_the_queue_is_recovering_by_redelivery():
    # GIVEN a worker child was killed and its message was requeued
    result = run(snapshot([row(1, "ocr_processing", "t1", age_s=900)], [waiting("t1", 1)]))
    # THEN it is OK, and listed as recovering
    assert result.findings == [] and [f.document_id for f in result.recovering] == [1]
    assert "redelivery" in result.recovering[0].detail


def test_messages_for_terminal_pending_or_unknown_documents_are_orphans():
    docs = {
        5: DocumentState(5, "uuid-5", "p", "graph_complete", "t5", 1000),
        6: DocumentState(6, "uuid-6", "p", "error_ocr", "t6", 1000),
        7: DocumentState(7, "uuid-7", "p", "pending", None, 1000),
        8: DocumentState(8, "uuid-8", "p", "graph_complete", "t8", 2),
    }  # finished just now
    messages = [
        waiting("t5", 5, "graph.build_graph", "graph"),
        unacked("t6", 6),
        waiting("x7", 7),
        waiting("t8", 8, "graph.build_graph", "graph"),
        waiting("t9", 999_999),
    ]
    # GIVEN messages for finished, failed, never-submitted, just-finished and unknown documents
    result = run(snapshot(messages=messages, docs=docs))
    # THEN all but the just-finished one are ORPHANs, and the report says which copy can be removed
    assert kinds(result) == {5: ["ORPHAN"], 6: ["ORPHAN"], 7: ["ORPHAN"], 999_999: ["ORPHAN"]}
    by_doc = {f.document_id: f for f in result.findings}
    assert "unknown document" in by_doc[999_999].detail and "removable" in by_doc[999_999].detail
    assert "unacked (reported only)" in by_doc[6].detail


def test_a_project_filter_ignores_other_projects_and_unknown_documents():
    docs = {5: DocumentState(5, "uuid-5", "other", "graph_complete", "t5", 1000)}
    messages = [waiting("t5", 5), waiting("t9", 999_999), waiting("t1", 1)]
    result = run(snapshot([row(1, "ocr_queued", "t1", project="mine")], messages, docs=docs, project_id="mine"))
    assert result.findings == [] and result.ok == 1
    assert {s.stage: s.messages_waiting for s in result.stages}["ocr"] == 1


def test_two_copies_of_one_stage_message_are_a_duplicate():
    # GIVEN the row's task waiting twice (e.g. a restore raced a redelivery)
    result = run(snapshot([row(1, "ocr_queued", "t1")], [waiting("t1", 1), waiting("t1", 1)]))
    assert kinds(result) == {1: ["DUPLICATE"]}


def test_a_worker_holding_the_unacked_copy_is_one_copy_not_a_duplicate():
    held = [HeldTask("w1@host", "reserved", "t1", OCR, 1)]
    result = run(snapshot([row(1, "ocr_queued", "t1")], [unacked("t1", 1)], held))
    assert result.findings == []


def test_a_message_with_another_task_id_is_a_mismatch_and_the_row_is_lost_without_its_own():
    # GIVEN a re-driven row (task t2) with only the stale message of its old task t1
    result = run(snapshot([row(1, "ocr_queued", "t2")], [waiting("t1", 1)]))
    # THEN the stale message is a MISMATCH and the row itself is LOST
    assert sorted(kinds(result)[1]) == ["LOST", "MISMATCH"] and set(kinds(result)) == {1}
    mismatch = next(f for f in result.findings if f.kind == "MISMATCH")
    assert mismatch.message_task_ids == ("t1",) and mismatch.task_id == "t2"


def test_the_report_is_json_serialisable_and_renders_markdown_and_table_rows():
    snap = snapshot([row(1, "ocr_queued", "t1"), row(2, "ocr_queued", "t2")], [waiting("t2", 2), waiting("z", 999)])
    result = run(snap)
    report = build_report(snap, result, parameters={"repair": False, "project_id": None})
    data = json.loads(json.dumps(report.to_dict()))
    # THEN the dict, the markdown and the table all name the LOST document and the ORPHAN message
    assert data["counts"]["LOST"] == 1 and data["counts"]["ORPHAN"] == 1 and data["healthy"] is False
    markdown = report.markdown()
    assert "| LOST | 1 | `uuid-1` | ocr | ocr_queued |" in markdown and "## Actions" in markdown
    assert "| ocr | `ocr` | 2 | 0 | 2 | 0 | 0 | 2 |" in markdown
    assert {r["kind"] for r in report.table_rows()} == {"LOST", "ORPHAN"}
    assert all(set(r) == set(report.table_rows()[0]) for r in report.table_rows())
    assert Kind.LOST.value in report.counts


def test_the_flows_explain_their_parameters_in_the_ui_form():
    from flows.monitor import pipeline_monitor
    from flows.reconcile import reconcile_flow as reconcile

    # GIVEN the reconcile flow WHEN its parameter schema is built THEN every parameter is described
    properties = reconcile.parameters.model_dump()["properties"]
    assert set(properties) == {
        "grace_period_s",
        "stuck_threshold_s",
        "project_id",
        "repair",
        "max_repairs",
        "inspect_timeout_s",
    }
    assert all(p.get("description") for p in properties.values())
    assert properties["repair"]["default"] is False
    assert reconcile.name == "reconcile" and pipeline_monitor.name == "pipeline-monitor"


def test_the_report_names_each_worker_with_the_queues_it_consumes():
    # GIVEN an OCR-only node and an NLP node answering inspect
    snap = snapshot(workers=("ocr-node@h", "nlp-node@h"))
    snap.worker_queues = {"ocr-node@h": ["ocr"], "nlp-node@h": ["entity", "graph", "text"]}
    # WHEN the report is built
    report = build_report(snap, run(snap), parameters={})
    # THEN the summary line and the JSON say which node serves which queue
    assert "workers: ocr-node@h (ocr), nlp-node@h (entity, graph, text)" in report.markdown()
    assert json.loads(json.dumps(report.to_dict()))["worker_queues"]["ocr-node@h"] == ["ocr"]


# -- quiet rows classified by PostgreSQL, and the capped listing ----------------------------------------


def quiet(lost: list[DocumentState], *, by_status: dict[str, int], total_lost: int, limit: int = 2) -> QuietRows:
    return QuietRows(GRACE, limit, by_status, total_lost, lost)


def test_quiet_rows_counted_by_postgresql_join_the_classification_with_exact_counts():
    # GIVEN 5 quiet in-flight rows, 4 of them LOST (PostgreSQL listed the first 2 by id), and one queued
    # row with its message, read in full
    snap = snapshot([row(10, "ocr_queued", "t10")], [waiting("t10", 10)])
    snap.quiet = quiet(
        [row(1, "ocr_queued", "t1"), row(3, "text_processing", "t3")],
        by_status={"ocr_queued": 3, "text_processing": 2},
        total_lost=4,
    )
    result = run(snap)
    # THEN counts are exact, the listing holds the first 2 LOST, and every row is in the stage counts
    assert result.counts["LOST"] == 4 and result.unlisted["LOST"] == 2
    assert [f.document_id for f in result.findings] == [1, 3]
    assert result.in_flight == 6 and result.ok == 2
    stages = {s.stage: s for s in result.stages}
    assert (stages["ocr"].rows_waiting, stages["text"].rows_processing, stages["ocr"].messages_waiting) == (4, 2, 1)
    # AND the report keeps the counts exact and says the listing is capped
    report = build_report(snap, result, parameters={})
    assert report.counts["LOST"] == 4 and report.unlisted == {"LOST": 2} and not report.healthy
    markdown = report.markdown()
    assert "**4 problem(s)**" in markdown
    assert "Listing capped — LOST: 4 found, the first 2 by document id listed" in markdown
    assert "listing capped: LOST: 4 found" in report.table_rows()[-1]["detail"]
    assert json.loads(json.dumps(report.to_dict()))["unlisted"] == {"LOST": 2}


def test_the_lost_listing_is_the_first_by_document_id_across_quiet_rows_and_rows_with_messages():
    # GIVEN a row LOST beside a stale message (id 2), and quiet LOST rows 1 and 5 listed with a limit of 2
    snap = snapshot([row(2, "ocr_queued", "t2")], [waiting("old", 2)])
    snap.quiet = quiet(
        [row(1, "ocr_queued", "t1"), row(5, "ocr_queued", "t5")], by_status={"ocr_queued": 3}, total_lost=3
    )
    result = run(snap)
    # THEN LOST 1 and 2 are listed, 5 is counted only; the MISMATCH is listed whatever the cap
    assert [(f.kind, f.document_id) for f in result.findings] == [("LOST", 1), ("LOST", 2), ("MISMATCH", 2)]
    assert result.counts["LOST"] == 4 and result.unlisted["LOST"] == 2


def test_nothing_listed_is_still_unhealthy_when_problems_were_counted():
    snap = snapshot()
    snap.quiet = quiet([], by_status={"graph_processing": 7}, total_lost=7, limit=0)
    report = build_report(snap, run(snap), parameters={})
    assert report.findings == [] and report.counts["LOST"] == 7 and not report.healthy
    assert "None." not in report.markdown()


def test_a_snapshot_classified_with_another_grace_period_than_it_was_gathered_with_is_refused():
    snap = snapshot()
    snap.quiet = quiet([], by_status={}, total_lost=0)
    with pytest.raises(ValueError, match="grace period"):
        classify(snap, grace_period_s=GRACE + 1, stuck_threshold_s=STUCK)


def test_a_message_for_another_stage_is_not_the_rows_copy():
    # GIVEN an OCR-queued row whose only message (its own task id) is for the text stage
    result = run(snapshot([row(1, "ocr_queued", "t1")], [waiting("t1", 1, TEXT, "text")]))
    # THEN the row has no copy of its own: LOST
    assert kinds(result) == {1: ["LOST"]}


def test_fast_json_decoding_reads_and_fails_as_json_loads_does():
    # GIVEN items json.loads accepts only with its own handling (whitespace around) and garbage
    padded = decode_waiting(b" " + json.dumps(envelope("t1", OCR, 7)).encode() + b"\n", key="ocr", queue="ocr")
    assert (padded.task_id, padded.document_id, padded.error) == ("t1", 7, None)
    for garbage in (b"", b"[1, 2", b"\xff\xfe", b'{"a": 1} trailing'):
        message = decode_waiting(garbage, key="ocr", queue="ocr")
        try:
            json.loads(garbage)
        except ValueError as exc:
            assert message.error == f"{type(exc).__name__}: {exc}"[:200]
