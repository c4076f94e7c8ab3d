"""The whole pipeline on real services and real worker processes: ocr → text → entity → graph."""

from __future__ import annotations

import concurrent.futures
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from docflow.core.db import session_scope
from docflow.core.graph import GraphStore
from docflow.core.models import Chunk, EntityMention, SourceDocument, StageRun
from docflow.ops.progress import wait_for_documents
from docflow.ops.submit import ingest_file

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

TIMEOUT_S = 300


def _document(document_id: int) -> SourceDocument:
    with session_scope() as session:
        return session.get(SourceDocument, document_id)


def _graph_entity_keys(settings, document_uuid: str) -> set[str]:
    """Normalized keys (label dropped) of the entities the document's chunks mention in Neo4j."""
    with GraphStore(settings) as graph:
        rows = graph.query(
            "MATCH (:Document {uuid: $uuid})-[:HAS_CHUNK]->(:Chunk)-[:MENTIONS]->(e:Entity) "
            "RETURN DISTINCT e.key AS key",
            uuid=document_uuid,
        )
    return {row["key"].split("|", 2)[2] for row in rows}


def test_every_sample_type_reaches_graph_complete(workers, sample_files, project_id):
    from docflow.samples import SAMPLE_FACTS
    from tasks.steps.entities import canonical_key

    good, _bad = sample_files
    # GIVEN every sample document type WHEN submitted
    ids = {ingest_file(path=path, project_id=project_id).document_id: name for name, path in good.items()}
    final = wait_for_documents(ids, timeout_s=TIMEOUT_S)
    # THEN each one reaches graph_complete
    assert {ids[d]: s for d, s in final.items()} == dict.fromkeys(ids.values(), "graph_complete")

    for document_id, name in ids.items():
        document = _document(document_id)
        facts = SAMPLE_FACTS[name]
        assert document.initial_processing_status == "completed"
        assert document.file_type == facts["file_type"]
        assert all(getattr(document, f"{stage}_completed_at") for stage in ("ocr", "text", "entity", "graph"))
        with session_scope() as session:
            chunks = session.scalar(select(func.count()).where(Chunk.document_id == document_id))
            mentions = session.scalar(select(func.count()).where(EntityMention.document_id == document_id))
            runs = session.execute(
                select(StageRun.stage, StageRun.outcome, StageRun.worker_hostname).where(
                    StageRun.document_id == document_id
                )
            ).all()
        # AND its chunks and mentions are in PostgreSQL, with one successful run per stage
        assert chunks >= 1 and mentions >= 1, name
        assert sorted((stage, outcome) for stage, outcome, _ in runs) == [
            ("entity", "succeeded"),
            ("graph", "succeeded"),
            ("ocr", "succeeded"),
            ("text", "succeeded"),
        ]
        assert all(host and host.startswith("docflow-pytest@") for _, _, host in runs)
        # AND Neo4j holds Document -> Chunk (all of them) -> Entity, with NEXT links between chunks
        with GraphStore(workers) as graph:
            counts = graph.document_counts(str(document.document_uuid))
            next_links = graph.query(
                "MATCH (:Document {uuid: $uuid})-[:HAS_CHUNK]->(a:Chunk)-[:NEXT]->(b:Chunk) RETURN count(*) AS n",
                uuid=str(document.document_uuid),
            )[0]["n"]
        assert counts["chunks"] == chunks, name
        assert counts["mentions"] >= 1 and counts["entities"] >= 1, name
        assert next_links == chunks - 1
        # AND the people, organizations and places of the sample are entities of its graph
        found = _graph_entity_keys(workers, str(document.document_uuid))
        expected = facts["people"] + facts["organizations"] + facts["places"]
        missing = [
            text
            for text in expected
            if not any(canonical_key(text, label) in found for label in ("PERSON", "ORG", "GPE", "LOC", "FAC"))
        ]
        assert not missing, f"{name}: entities missing from the graph: {missing} (found {sorted(found)})"


def test_bad_input_ends_in_error_ocr_with_a_reason_and_no_retries(workers, sample_files, project_id):
    _good, bad = sample_files
    # GIVEN a corrupt PDF and an empty file WHEN submitted
    corrupt = ingest_file(path=bad["corrupt.pdf"], project_id=project_id).document_id
    empty = ingest_file(path=bad["empty.txt"], project_id=project_id).document_id
    final = wait_for_documents([corrupt, empty], timeout_s=TIMEOUT_S)
    # THEN both end in error_ocr with a clear message, after exactly one attempt
    assert final == {corrupt: "error_ocr", empty: "error_ocr"}
    assert "corrupt PDF" in _document(corrupt).error_message
    assert _document(empty).error_message == "empty file: 0 bytes"
    for document_id in (corrupt, empty):
        document = _document(document_id)
        assert document.ocr_attempts == 1 and document.initial_processing_status == "error_ocr"
        with session_scope() as session:
            runs = session.execute(
                select(StageRun.attempt, StageRun.outcome).where(StageRun.document_id == document_id)
            ).all()
        assert runs == [(0, "failed")]


def test_submitting_the_same_document_twice_makes_one_document_and_one_subgraph(workers, sample_files, project_id):
    good, _bad = sample_files
    path = good["field_notes.txt"]
    # GIVEN the same file submitted four times concurrently, then once more after it finished
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: ingest_file(path=path, project_id=project_id), range(4)))
    assert sum(r.created for r in results) == 1
    document_id = results[0].document_id
    assert {r.document_id for r in results} == {document_id}
    assert wait_for_documents([document_id], timeout_s=TIMEOUT_S) == {document_id: "graph_complete"}
    again = ingest_file(path=path, project_id=project_id)
    # THEN there is one row, one Document node, and the second submission did nothing new
    assert not again.created and again.submitted is None and again.status == "graph_complete"
    with session_scope() as session:
        rows = session.scalar(select(func.count()).where(SourceDocument.project_id == project_id))
        ocr_runs = session.scalar(
            select(func.count()).where(StageRun.document_id == document_id, StageRun.stage == "ocr")
        )
    assert rows == 1 and ocr_runs == 1
    with GraphStore(workers) as graph:
        nodes = graph.query("MATCH (d:Document {uuid: $uuid}) RETURN count(d) AS n", uuid=results[0].document_uuid)
    assert nodes == [{"n": 1}]


def test_graph_stage_waits_in_retry_while_neo4j_is_down_and_completes_after(workers, sample_files, project_id):
    from docflow import services

    good, _bad = sample_files
    neo4j = services.Neo4j(workers)
    # GIVEN Neo4j is stopped
    neo4j.stop()
    try:
        document_id = ingest_file(path=good["field_notes.txt"], project_id=project_id).document_id
        # WHEN the document reaches the graph stage THEN it waits there in retry, not in error
        retrying = _wait_for_retry(document_id)
        assert retrying.celery_status == "graph_processing"
        assert "neo4j unavailable" in retrying.error_message and "retry" in retrying.error_message
    finally:
        neo4j.start()
    # AND once Neo4j is back it completes
    assert wait_for_documents([document_id], timeout_s=TIMEOUT_S) == {document_id: "graph_complete"}
    document = _document(document_id)
    assert document.graph_attempts >= 2 and document.error_message is None
    with GraphStore(workers) as graph:
        assert graph.document_counts(str(document.document_uuid))["chunks"] >= 1


def _wait_for_retry(document_id: int, timeout_s: float = 120) -> SourceDocument:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        document = _document(document_id)
        if document.celery_status == "graph_processing" and document.error_message:
            return document
        if document.celery_status.startswith("error") or document.celery_status == "graph_complete":
            return document
        time.sleep(0.5)
    return _document(document_id)


def test_cli_submit_wait_exits_zero_on_complete_and_non_zero_on_error(workers, sample_files, project_id):
    good, bad = sample_files
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "docflow.cli",
            "submit",
            str(good["partner_email.eml"]),
            "--project",
            project_id,
            "--wait",
            "--timeout",
            str(TIMEOUT_S),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S + 60,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "ocr_processing" in ok.stdout or "ocr_queued" in ok.stdout
    assert "graph_complete" in ok.stdout
    failed = subprocess.run(
        [
            sys.executable,
            "-m",
            "docflow.cli",
            "submit",
            str(bad["not_a_pdf.pdf"]),
            "--project",
            project_id,
            "--wait",
            "--timeout",
            str(TIMEOUT_S),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S + 60,
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "error_ocr" in failed.stdout
