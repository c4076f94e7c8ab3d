"""The graph stage's write of a batch of documents on the real Neo4j: each subgraph replaced whole,
exactly as one document's write leaves it."""

from __future__ import annotations

import uuid

import pytest

from docflow.core.graph import DocumentGraph, GraphStore, entity_key
from docflow.core.graph_batch import replace_documents

pytestmark = [pytest.mark.neo4j]


def _document(project: str, doc_uuid: str, names: list[str], chunks: int = 2, typed: bool = False) -> DocumentGraph:
    keys = {name: entity_key(project_id=project, label="ORG", normalized_key=name.lower()) for name in names}
    # A typed relationship (issue 27) between the first two names, with its best evidence.
    acquired = {"kind": "ACQUIRED", "confidence": 0.9, "properties": {"date": "2024"}}
    evidence = {"sentence": f"{names[0]} acquired {names[-1]}.", "page": 1, "chunk_index": 0, "producer": "test"}
    return DocumentGraph(
        document_uuid=doc_uuid,
        project_id=project,
        name=f"{doc_uuid}.txt",
        file_type="txt",
        chunks=[{"index": i, "text": f"chunk {i}", "page_start": 1, "page_end": 1} for i in range(chunks)],
        entities=[{"key": key, "name": name, "label": "ORG"} for name, key in keys.items()],
        mentions=[{"chunk_index": i, "entity_key": key, "count": 1} for i in range(chunks) for key in keys.values()],
        relationships=[
            {"source_key": keys[a], "target_key": keys[b], "weight": chunks}
            for n, a in enumerate(names)
            for b in names[n + 1 :]
        ]
        + (
            [
                {
                    "source_key": keys[names[0]],
                    "target_key": keys[names[1]],
                    "weight": 1,
                    **acquired,
                    "evidence": evidence,
                }
            ]
            if typed
            else []
        ),
    )


def _shape(store: GraphStore, doc_uuid: str) -> tuple[dict, int]:
    nexts = store.query("MATCH (:Chunk {document_uuid: $u})-[n:NEXT]->(:Chunk) RETURN count(n) AS n", u=doc_uuid)
    return store.document_counts(doc_uuid), nexts[0]["n"]


@pytest.fixture
def store(stack):
    with GraphStore(stack) as graph_store:
        graph_store.ensure_constraints()
        yield graph_store


def test_a_batch_write_leaves_each_document_as_its_own_write_would(store):
    project = f"batch-{uuid.uuid4().hex[:8]}"
    one, two, three, alone = (str(uuid.uuid4()) for _ in range(4))
    try:
        # GIVEN three documents sharing entities written in one batch (one with a typed relationship),
        # and one written on its own
        batch = [
            _document(project, one, ["Acme", "Globex"], chunks=3, typed=True),
            _document(project, two, ["Acme", "Initech"]),
            _document(project, three, ["Umbrella"], chunks=1),
        ]
        counts = replace_documents(store, batch)
        store.replace_document(_document(project, alone, ["Acme", "Globex"], chunks=3, typed=True))
        # THEN each batch document has exactly what a write of its own leaves (the same as `alone`)
        assert _shape(store, one) == _shape(store, alone)
        assert _shape(store, one)[0]["typed"] == 1
        assert _shape(store, two) == ({"chunks": 2, "mentions": 4, "entities": 2, "co_occurs": 1, "typed": 0}, 1)
        assert counts[three] == {"chunks": 1, "entities": 1, "mentions": 1, "relationships": 0}
        edge = store.query(
            "MATCH (:Entity)-[r:ACQUIRED {document_uuid: $u}]->(:Entity) RETURN r.sentence AS s, r.date AS d", u=one
        )
        assert edge == [{"s": "Acme acquired Globex.", "d": "2024"}]
        # WHEN the batch is written again, one document now naming only Initech (no typed relationship)
        batch[0] = _document(project, one, ["Initech"], chunks=1)
        replace_documents(store, batch)
        # THEN nothing is duplicated, and what only the old version named is gone (its typed edge too)
        assert _shape(store, one) == ({"chunks": 1, "mentions": 1, "entities": 1, "co_occurs": 0, "typed": 0}, 0)
        assert _shape(store, two) == ({"chunks": 2, "mentions": 4, "entities": 2, "co_occurs": 1, "typed": 0}, 1)
        names = {r["n"] for r in store.query("MATCH (e:Entity {project_id: $p}) RETURN e.name AS n", p=project)}
        assert names == {"Acme", "Globex", "Initech", "Umbrella"}  # Globex stays: `alone` names it
    finally:
        for doc in (one, two, three, alone):
            store.delete_document(doc)
