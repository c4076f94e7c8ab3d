"""Reviewed entity merges through the real stack: possible duplicates, merge, reprocess, export, split.

The CLI records who merged (the OS user), the workers re-run the entity and graph stages of the
documents concerned, and PostgreSQL, Neo4j and the export all show one entity; a reprocess keeps
it; a split makes two again and keeps the history.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from docflow.cli import app
from docflow.core.db import session_scope
from docflow.core.graph import GraphStore
from docflow.core.models import CanonicalEntity, EntityMention
from docflow.ops.progress import wait_for_documents
from docflow.ops.submit import ingest_file

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

TIMEOUT_S = 240
LEASE = (
    "Maria Gonzalez signed the warehouse lease with Harbour Freight Ltd. in Rotterdam on Monday. "
    "Maria Gonzalez will review the inventory with Harbour Freight next month."
)
INVOICE = (
    "Maria Gonzales approved the invoice from Harbour Freight Ltd. for the storage in Rotterdam. "
    "The payment was confirmed by Maria Gonzales on Friday."
)


def _cli(*args: str):
    return CliRunner().invoke(app, list(args))


def _people(document_id: int) -> set[str]:
    """The canonical keys of the PERSON entities the document's mentions point at."""
    with session_scope() as session:
        return set(
            session.scalars(
                select(CanonicalEntity.normalized_key)
                .join(EntityMention, EntityMention.canonical_entity_id == CanonicalEntity.id)
                .where(EntityMention.document_id == document_id, CanonicalEntity.label == "PERSON")
            )
        )


def _graph_people(settings, project: str) -> set[str]:
    with GraphStore(settings) as graph:
        rows = graph.query(
            "MATCH (:Chunk)-[:MENTIONS]->(e:Entity {project_id: $project, label: 'PERSON'}) RETURN DISTINCT e.key AS key",
            project=project,
        )
    return {row["key"].split("|", 2)[2] for row in rows}


def _wait(*ids: int) -> None:
    assert wait_for_documents(ids, timeout_s=TIMEOUT_S) == dict.fromkeys(ids, "graph_complete")


def test_a_reviewed_merge_is_one_entity_everywhere_survives_reprocessing_and_export_and_splits_back(
    workers, tmp_path: Path
):
    settings = workers
    project = f"merge-{uuid.uuid4().hex[:8]}"
    # GIVEN two documents of a project naming one person spelled two ways, with a shared neighbour
    (tmp_path / "lease.txt").write_text(LEASE, encoding="utf-8")
    (tmp_path / "invoice.txt").write_text(INVOICE, encoding="utf-8")
    lease = ingest_file(path=tmp_path / "lease.txt", project_id=project).document_id
    invoice = ingest_file(path=tmp_path / "invoice.txt", project_id=project).document_id
    _wait(lease, invoice)
    assert _people(lease) == {"maria gonzalez"} and _people(invoice) == {"maria gonzales"}

    # WHEN the possible duplicates are listed
    listed = _cli("entities", "duplicates", "--project", project, "--json")
    assert listed.exit_code == 0, listed.output
    pairs = [{c["first"]["key"], c["second"]["key"]} for c in json.loads(listed.output)]
    # THEN the two spellings are a candidate (alike names, Harbour Freight and Rotterdam in common)
    assert {"maria gonzalez", "maria gonzales"} in pairs
    candidate = next(c for c in json.loads(listed.output) if c["first"]["key"].startswith("maria"))
    assert candidate["shared_neighbours"] >= 1

    # WHEN a person merges the misspelling into the right name from the CLI
    merged = _cli(
        "entities",
        "merge",
        "Maria Gonzales",
        "PERSON:Maria Gonzalez",
        "--project",
        project,
        "--reason",
        "typo",
        "--json",
    )
    assert merged.exit_code == 0, merged.output
    result = json.loads(merged.output)
    assert result["redriven"] == [invoice]
    assert result["merge"]["merged_by"].startswith("cli:") and result["merge"]["reason"] == "typo"
    _wait(invoice)
    # THEN PostgreSQL and the graph hold one person, mentioned by both documents
    assert _people(invoice) == {"maria gonzalez"}
    assert _graph_people(settings, project) == {"maria gonzalez"}
    with session_scope() as session:
        texts = set(
            session.scalars(
                select(EntityMention.text)
                .join(CanonicalEntity, EntityMention.canonical_entity_id == CanonicalEntity.id)
                .where(EntityMention.document_id == invoice, CanonicalEntity.normalized_key == "maria gonzalez")
            )
        )
    assert texts == {"Maria Gonzales"}  # the document still says what it says

    # WHEN the invoice is reprocessed from the OCR stage THEN the merge still holds
    again = _cli("reprocess", str(invoice), "--from", "ocr", "--json")
    assert again.exit_code == 0, again.output
    _wait(invoice)
    assert _people(invoice) == {"maria gonzalez"}

    # AND the export carries the merge with who and when, and the merged entity
    exported = tmp_path / "p.jsonl"
    assert _cli("export", "--project", project, "-o", str(exported)).exit_code == 0
    records = {json.loads(line)["document"]["id"]: json.loads(line) for line in exported.read_text().splitlines()}
    merges = records[invoice]["merges"]
    assert [(m["from"], m["into"], m["reason"]) for m in merges] == [
        (f"{project}|PERSON|maria gonzales", f"{project}|PERSON|maria gonzalez", "typo")
    ]
    assert merges[0]["merged_by"].startswith("cli:") and merges[0]["merged_at"]
    assert f"{project}|PERSON|maria gonzalez" in {e["key"] for e in records[invoice]["entities"]}

    # AND asking for the same merge again changes nothing; merging it elsewhere is refused in one line
    again_merged = json.loads(
        _cli("entities", "merge", "Maria Gonzales", "Maria Gonzalez", "--project", project, "--json").output
    )
    assert (again_merged["merge"]["id"], again_merged["redriven"]) == (result["merge"]["id"], [])
    refused = _cli("entities", "merge", "Maria Gonzales", "Rotterdam", "--project", project)
    assert refused.exit_code == 2 and "already merged" in refused.output and "Traceback" not in refused.output
    itself = _cli("entities", "merge", "Maria Gonzalez", "PERSON:Maria Gonzalez", "--project", project)
    assert itself.exit_code == 2 and "same entity" in itself.output

    # WHEN the merge is split THEN two people again, in PostgreSQL and in the graph
    split = _cli("entities", "split", "Maria Gonzales", "--project", project, "--json")
    assert split.exit_code == 0, split.output
    assert set(json.loads(split.output)["redriven"]) == {lease, invoice}
    _wait(lease, invoice)
    assert _people(invoice) == {"maria gonzales"} and _people(lease) == {"maria gonzalez"}
    assert _graph_people(settings, project) == {"maria gonzalez", "maria gonzales"}
    # AND the history keeps the merge and its split
    history = json.loads(_cli("entities", "merges", "--project", project, "--history", "--json").output)
    assert [(h["from_key"], bool(h["split_at"]), h["split_by"].startswith("cli:")) for h in history] == [
        ("maria gonzales", True, True)
    ]
    assert json.loads(_cli("entities", "merges", "--project", project, "--json").output) == []
