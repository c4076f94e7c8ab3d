"""After graph_complete, on the real stack: reprocess, delete, search, explore and export documents."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from docflow.cli import app
from docflow.core.db import session_scope
from docflow.core.graph import GraphStore
from docflow.core.models import (
    CanonicalEntity,
    Chunk,
    DocumentDeletion,
    DocumentExtraction,
    EntityMention,
    EntityRelationship,
    SourceDocument,
    StageRun,
)
from docflow.core.storage import ObjectStorage
from docflow.ops.lifecycle.selection import Selection
from docflow.ops.progress import wait_for_documents
from docflow.ops.submit import ingest_file

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

TIMEOUT_S = 240
SAMPLES = ("field_notes.txt", "born_digital.pdf", "partner_email.eml")


@dataclass
class Processed:
    project: str
    ids: dict[str, int]  # sample name -> document id


@pytest.fixture(scope="module")
def processed(workers, sample_files) -> Processed:
    """Three samples of one fresh project, all the way to graph_complete."""
    good, _bad = sample_files
    project = f"life-{uuid.uuid4().hex[:10]}"
    ids = {name: ingest_file(path=good[name], project_id=project).document_id for name in SAMPLES}
    assert set(wait_for_documents(list(ids.values()), timeout_s=TIMEOUT_S).values()) == {"graph_complete"}
    return Processed(project, ids)


def _row(document_id: int) -> SourceDocument | None:
    with session_scope() as session:
        return session.get(SourceDocument, document_id)


def _cli(*args: str):
    return CliRunner().invoke(app, list(args))


# -- search ------------------------------------------------------------------------------------------------------


def test_search_finds_a_phrase_with_its_document_pages_and_a_highlighted_snippet(processed):
    # WHEN the operator searches the project for words of one document (a stemmed form, as people type)
    result = _cli("search", "cold storage rooms", "--project", processed.project, "--json")
    # THEN that document is the first hit, with its page span and the words marked in the snippet
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    first = found["hits"][0]
    assert first["document_id"] == processed.ids["field_notes.txt"]
    assert (first["page_start"], first["page_end"]) == (1, 1)
    assert "«cold»" in first["snippet"] and "«storage»" in first["snippet"]
    # AND a phrase on the PDF's second page points at that page
    audit = json.loads(_cli("search", '"budgeted $4,800"', "--project", processed.project, "--json").output)
    assert audit["hits"][0]["document_id"] == processed.ids["born_digital.pdf"]
    assert audit["hits"][0]["page_end"] == 2
    # AND other projects' documents are never mixed in, and paging works
    every = json.loads(_cli("search", "Nairobi", "--project", processed.project, "--limit", "1", "--json").output)
    assert len(every["hits"]) == 1 and every["has_more"] is True
    assert all(h["project_id"] == processed.project for h in every["hits"])


def test_a_query_matching_more_chunks_than_are_ranked_says_so(processed, monkeypatch):
    from docflow.ops.lifecycle import search

    # GIVEN a ranking bound smaller than the chunks that mention Nairobi
    monkeypatch.setattr(search, "RANKED_CANDIDATES", 1)
    # WHEN the operator searches for it
    result = _cli("search", "Nairobi", "--project", processed.project)
    # THEN a hit is still shown, and the CLI says it was ranked among the first matches found
    assert result.exit_code == 0, result.output
    assert "1. " in result.output and "ranked among the first found" in result.output
    # AND with a bound above the matches the ranking is exact and nothing is said
    monkeypatch.setattr(search, "RANKED_CANDIDATES", 10_000)
    assert search.search_chunks("Nairobi", filters=search.SearchFilters(project_id=processed.project)).capped is False


def test_search_input_errors_are_one_clear_line(processed):
    empty = _cli("search", "   ", "--project", processed.project)
    assert empty.exit_code == 2 and "query is empty" in empty.output and "Traceback" not in empty.output
    nothing = _cli("search", "zebra xylophone", "--project", processed.project)
    assert nothing.exit_code == 1 and "no match" in nothing.output
    # A query of only punctuation and operators is not a syntax error either.
    odd = _cli("search", '"unclosed & | ! (', "--project", processed.project)
    assert odd.exit_code in (0, 1) and "Traceback" not in odd.output


# -- entities --------------------------------------------------------------------------------------------------


def test_entity_lookup_is_fuzzy_and_shows_documents_pages_and_neighbours(processed, stack):
    # WHEN an operator asks for a misspelt person
    result = _cli("entity", "Maria Gonzales", "--project", processed.project, "--json")
    # THEN the right entity is found in Neo4j with every document that mentions it, and its neighbours
    assert result.exit_code == 0, result.output
    view = json.loads(result.output)
    assert view["entity"]["name"] == "Maria Gonzalez" and view["entity"]["label"] == "PERSON"
    assert view["source"] == "neo4j"
    names = {d["name"] for d in view["documents"]}
    assert {"field_notes.txt", "born_digital.pdf", "partner_email.eml"} <= names
    assert all(d["pages"] for d in view["documents"])
    neighbours = {n["name"]: n for n in view["neighbours"]}
    assert "Daniel Okafor" in neighbours and neighbours["Daniel Okafor"]["weight"] >= 2
    assert view["neighbours"] == sorted(view["neighbours"], key=lambda n: (-n["weight"], n["name"]))


def test_entity_lookup_falls_back_to_postgresql_when_neo4j_is_down_and_says_so(processed, stack):
    from docflow.ops.lifecycle.explore import explore_entity

    # GIVEN settings that point Neo4j at a port nothing listens on
    down = stack.model_copy(update={"neo4j_uri": "bolt://127.0.0.1:1", "neo4j_timeout_s": 2.0})
    with GraphStore(stack) as graph:
        from_graph = explore_entity("Daniel Okafor", settings=stack, project_id=processed.project, graph=graph)
    # WHEN the same entity is looked up
    view = explore_entity("Daniel Okafor", settings=down, project_id=processed.project)
    # THEN the answer comes from PostgreSQL, says so, and names the same documents and neighbours
    assert view is not None and from_graph is not None
    assert view.source.startswith("postgresql (Neo4j unavailable")
    assert {d["name"] for d in view.documents} == {d["name"] for d in from_graph.documents}
    assert {n["name"] for n in view.neighbours} == {n["name"] for n in from_graph.neighbours}


# -- export and graph import ---------------------------------------------------------------------------------------


def test_export_streams_json_lines_and_the_graph_round_trips(processed, stack, tmp_path):
    out = tmp_path / "project.jsonl"
    # WHEN the project is exported
    result = _cli("export", "--project", processed.project, "--output", str(out), "--json")
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    # THEN one line per document, with its text, chunks with pages, entities with mentions, relationships
    assert {r["document"]["name"] for r in records} == set(SAMPLES)
    notes = next(r for r in records if r["document"]["name"] == "field_notes.txt")
    assert "cold storage room" in notes["text"]
    assert notes["chunks"] and all({"index", "text", "page_start", "page_end"} <= set(c) for c in notes["chunks"])
    assert any(e["name"] == "Kenji Tanaka" and e["mentions"] for e in notes["entities"])
    assert notes["relationships"] and notes["document"]["pipeline_versions"]["entity"].startswith("entities/")

    uuids = [r["document"]["uuid"] for r in records]

    def counts() -> dict[str, int]:
        queries = {
            "documents": "MATCH (d:Document) WHERE d.uuid IN $uuids RETURN count(d) AS n",
            "chunks": "MATCH (c:Chunk) WHERE c.document_uuid IN $uuids RETURN count(c) AS n",
            "entities": "MATCH (c:Chunk)-[:MENTIONS]->(e:Entity) WHERE c.document_uuid IN $uuids "
            "RETURN count(DISTINCT e) AS n",
            "has_chunk": "MATCH (d:Document)-[h:HAS_CHUNK]->() WHERE d.uuid IN $uuids RETURN count(h) AS n",
            "next": "MATCH (c:Chunk)-[x:NEXT]->() WHERE c.document_uuid IN $uuids RETURN count(x) AS n",
            "mentions": "MATCH (c:Chunk)-[m:MENTIONS]->() WHERE c.document_uuid IN $uuids RETURN count(m) AS n",
            "co_occurs": "MATCH ()-[r:CO_OCCURS]->() WHERE r.document_uuid IN $uuids RETURN count(r) AS n",
        }
        with GraphStore(stack) as graph:
            return {name: graph.query(cypher, uuids=uuids)[0]["n"] for name, cypher in queries.items()}

    before = counts()
    assert before["documents"] == 3 and before["chunks"] >= 3 and before["co_occurs"] > 0
    # WHEN the project's graph is removed and the export is imported back
    with GraphStore(stack) as graph:
        for record in records:
            graph.delete_document(record["document"]["uuid"])
    assert counts()["documents"] == counts()["chunks"] == 0
    imported = _cli("import-graph", str(out), "--json")
    assert imported.exit_code == 0, imported.output
    # THEN the graph has exactly the same nodes and edges again
    assert counts() == before


def test_export_of_nothing_is_refused_clearly():
    result = _cli("export")
    assert result.exit_code == 2 and "export a --project" in result.output


# -- reprocess -------------------------------------------------------------------------------------------------


def test_reprocess_from_a_stage_runs_the_ordinary_stages_again(processed):
    document_id = processed.ids["field_notes.txt"]
    before = _row(document_id)
    # WHEN the document is reprocessed from the entity stage
    result = _cli("reprocess", str(document_id), "--from", "entity", "--reason", "new model", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    (outcome,) = report["documents"]
    assert outcome["action"] == "queued" and outcome["task_id"]
    # THEN it goes through entity and graph again to graph_complete, under new task ids
    assert wait_for_documents([document_id], timeout_s=TIMEOUT_S) == {document_id: "graph_complete"}
    after = _row(document_id)
    assert after.celery_task_id != before.celery_task_id
    with session_scope() as session:
        runs = (
            session.execute(select(StageRun).where(StageRun.document_id == document_id).order_by(StageRun.id))
            .scalars()
            .all()
        )
    # AND the history keeps the first run, records the reprocess with who and why, and the new runs
    restart = [r for r in runs if r.outcome == "reprocessed"]
    assert len(restart) == 1 and restart[0].stage == "entity" and "new model" in restart[0].error
    assert [r.stage for r in runs if r.outcome == "succeeded"].count("entity") == 2
    assert [r.stage for r in runs if r.outcome == "succeeded"].count("ocr") == 1  # OCR was not redone
    assert after.pipeline_versions.keys() == {"ocr", "text", "entity", "graph"}


def test_reprocess_refuses_what_is_unsafe_or_impossible_with_a_reason(processed, sample_files, stack):
    _good, bad = sample_files
    broken = ingest_file(path=bad["corrupt.pdf"], project_id=processed.project).document_id
    assert wait_for_documents([broken], timeout_s=TIMEOUT_S) == {broken: "error_ocr"}
    # A document that failed OCR has no text to start the entity stage from
    refused = _cli("reprocess", str(broken), "--from", "entity", "--json")
    assert refused.exit_code == 1
    (outcome,) = json.loads(refused.output)["documents"]
    assert outcome["action"] == "refused" and "no text result to start from" in outcome["reason"]
    # Unknown ids and malformed references are reported, never a traceback
    missing = _cli("reprocess", "999999999", "--from", "ocr")
    assert missing.exit_code == 1 and "no such document" in missing.output
    malformed = _cli("reprocess", "not-an-id")
    assert malformed.exit_code == 2 and "not a document id or uuid" in malformed.output
    # An empty selection is refused instead of meaning "everything"
    nothing = _cli("reprocess", "--from", "ocr")
    assert nothing.exit_code == 2 and "select documents by" in nothing.output


def test_a_document_in_flight_is_refused_unless_forced_and_the_forced_run_wins(processed, sample_files):
    good, _bad = sample_files
    document_id = ingest_file(path=good["board_minutes.docx"], project_id=processed.project).document_id
    # WHEN it is reprocessed while it is still in flight (refused), then forced
    refused = _cli("reprocess", str(document_id), "--from", "ocr", "--json")
    (first,) = json.loads(refused.output)["documents"]
    if first["status_before"] != "graph_complete":  # still in flight when we asked
        assert first["action"] == "refused" and "in flight" in first["reason"]
    forced = _cli("reprocess", str(document_id), "--from", "ocr", "--force", "--json")
    (outcome,) = json.loads(forced.output)["documents"]
    assert outcome["action"] == "queued"
    # THEN the document completes once, under the forced run's chain of tasks
    assert wait_for_documents([document_id], timeout_s=TIMEOUT_S) == {document_id: "graph_complete"}
    with session_scope() as session:
        chunks = session.scalar(select(func.count()).select_from(Chunk).where(Chunk.document_id == document_id))
        versions = session.get(SourceDocument, document_id).pipeline_versions
    assert chunks and set(versions) == {"ocr", "text", "entity", "graph"}


def test_documents_made_by_an_older_model_are_selected_in_one_command(processed, stack):
    from docflow.ops.lifecycle.selection import select_documents

    old, current = processed.ids["born_digital.pdf"], processed.ids["partner_email.eml"]
    # GIVEN one document whose entities were made by an older model
    with session_scope() as session:
        session.execute(
            text(
                "UPDATE source_documents SET pipeline_versions = pipeline_versions || "
                '\'{"entity": "entities/1; en_core_web_sm 3.7.1"}\'::jsonb WHERE id = :id'
            ),
            {"id": old},
        )
    # WHEN documents are selected by an outdated entity version, or by the old model's name
    outdated = select_documents(Selection(project_id=processed.project, outdated=("entity",)), stack)
    by_name = select_documents(Selection(made_with=("entity=en_core_web_sm 3.7",)), stack)
    # THEN exactly that document is chosen (the others are on this installation's version)
    assert [r.id for r in outdated.rows] == [old]
    assert old in [r.id for r in by_name.rows] and current not in [r.id for r in by_name.rows]
    # AND the monitor counts documents on an old version
    from docflow.ops.monitor import snapshot

    assert snapshot(stack, include_workers=False).outdated.get("entity", 0) >= 1
    # AND the dry run of "reprocess everything made by the old model" says what it would do
    dry = _cli(
        "reprocess", "--outdated", "entity", "--project", processed.project, "--from", "entity", "--dry-run", "--json"
    )
    assert [d["action"] for d in json.loads(dry.output)["documents"]] == ["would queue"]


# -- delete ----------------------------------------------------------------------------------------------------


def _leftovers(settings, document_id: int, document_uuid: str, object_key: str) -> dict[str, int]:
    with session_scope() as session:
        counts = {
            model.__name__: session.scalar(
                select(func.count()).select_from(model).where(model.document_id == document_id)
            )
            for model in (Chunk, EntityMention, EntityRelationship, StageRun, DocumentExtraction)
        }
        counts["SourceDocument"] = session.scalar(
            select(func.count()).select_from(SourceDocument).where(SourceDocument.id == document_id)
        )
    with GraphStore(settings) as graph:
        counts["neo4j"] = graph.query(
            "OPTIONAL MATCH (d:Document {uuid: $uuid}) OPTIONAL MATCH (c:Chunk {document_uuid: $uuid}) "
            "OPTIONAL MATCH ()-[r:CO_OCCURS {document_uuid: $uuid}]->() "
            "RETURN count(d) + count(c) + count(r) AS n",
            uuid=document_uuid,
        )[0]["n"]
    counts["s3"] = int(ObjectStorage(settings).exists(object_key))
    return counts


def test_delete_removes_everything_of_the_document_and_keeps_shared_entities(workers, sample_files, stack):
    good, _bad = sample_files
    project = f"del-{uuid.uuid4().hex[:10]}"
    keep = ingest_file(path=good["born_digital.pdf"], project_id=project).document_id
    gone = ingest_file(path=good["field_notes.txt"], project_id=project).document_id
    assert set(wait_for_documents([keep, gone], timeout_s=TIMEOUT_S).values()) == {"graph_complete"}
    row = _row(gone)
    # WHEN the field notes are deleted
    result = _cli("delete", str(gone), "--reason", "sent by mistake", "--json")
    assert result.exit_code == 0, result.output
    # THEN nothing of it is left in PostgreSQL, S3 or Neo4j
    assert set(_leftovers(stack, gone, str(row.document_uuid), row.object_key).values()) == {0}
    with session_scope() as session:
        names = set(session.scalars(select(CanonicalEntity.display_name).where(CanonicalEntity.project_id == project)))
        audit = session.execute(select(DocumentDeletion).where(DocumentDeletion.document_id == gone)).scalar_one()
    with GraphStore(stack) as graph:
        graph_names = {
            r["name"] for r in graph.query("MATCH (e:Entity {project_id: $p}) RETURN e.name AS name", p=project)
        }
    # AND the entity only it mentioned is gone, the ones it shared with the other document survive
    assert "Kenji Tanaka" not in names and "Kenji Tanaka" not in graph_names
    assert {"Maria Gonzalez", "Daniel Okafor"} <= names and {"Maria Gonzalez", "Daniel Okafor"} <= graph_names
    # AND the other document is untouched, and the deletion is audited without content
    assert _row(keep).celery_status == "graph_complete"
    assert audit.deleted_by.startswith("os:") and audit.reason == "sent by mistake"
    assert audit.removed["chunks"] >= 1 and audit.removed["original_removed"] is True
    # AND deleting it again, or a document that never existed, is a clear non-zero exit
    again = _cli("delete", str(gone))
    assert again.exit_code == 1 and "no such document" in again.output


def test_delete_while_in_flight_leaves_nothing_behind(workers, sample_files, stack, tmp_path):
    good, _bad = sample_files
    project = f"fly-{uuid.uuid4().hex[:10]}"
    # GIVEN a document just submitted (its messages are queued or running)
    copy = tmp_path / "letter.pdf"
    copy.write_bytes(good["scanned_letter.pdf"].read_bytes())
    document_id = ingest_file(path=copy, project_id=project).document_id
    row = _row(document_id)
    # WHEN it is deleted at once
    result = _cli("delete", str(document_id), "--json")
    assert result.exit_code == 0, result.output
    # THEN once the workers have seen its messages, nothing of it exists anywhere
    marker = ingest_file(path=good["field_notes.txt"], project_id=project).document_id  # behind it in the queues
    assert wait_for_documents([marker], timeout_s=TIMEOUT_S) == {marker: "graph_complete"}
    assert set(_leftovers(stack, document_id, str(row.document_uuid), row.object_key).values()) == {0}


def test_deleting_a_whole_project_needs_its_name_twice(processed):
    refused = _cli("delete", "--project", processed.project)
    assert refused.exit_code == 2 and f"--confirm {processed.project}" in refused.output
    assert _row(processed.ids["born_digital.pdf"]) is not None


def test_a_deleted_file_found_again_by_intake_is_not_taken_again(workers, sample_files, stack, tmp_path):
    import os
    import shutil
    import time

    from docflow.ops import intake

    good, _bad = sample_files
    project = f"again-{uuid.uuid4().hex[:10]}"
    root = tmp_path / "inbox"
    root.mkdir()
    shutil.copy(good["field_notes.txt"], root / "notes.txt")
    past = time.time() - 3600
    os.utime(root / "notes.txt", (past, past))
    options = intake.SweepOptions(source=str(root), project_id=project, stable_seconds=5)
    (taken,) = [f for f in intake.sweep(options, stack).files if f.outcome == "new"]
    assert wait_for_documents([taken.document_id], timeout_s=TIMEOUT_S) == {taken.document_id: "graph_complete"}
    # WHEN the document is deleted and the unchanged folder is swept again
    assert _cli("delete", str(taken.document_id)).exit_code == 0
    again = intake.sweep(options, stack)
    # THEN the file is not registered again (a deletion is a decision) ...
    assert [f.outcome for f in again.files] == ["skipped"]
    # ... but a changed file is a new version and is taken
    (root / "notes.txt").write_text("Kenji Tanaka revised the notes in Nairobi.")
    os.utime(root / "notes.txt", (past + 60, past + 60))
    assert [f.outcome for f in intake.sweep(options, stack).files] == ["new"]


def test_status_of_an_unknown_or_malformed_document_is_a_clear_exit(stack):
    assert _cli("status", "999999999").exit_code == 1
    malformed = _cli("status", "nope")
    assert malformed.exit_code == 2 and "not a document id or uuid" in malformed.output
