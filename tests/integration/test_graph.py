"""The graph write on the real Neo4j: a document's subgraph is replaced whole, never duplicated."""

from __future__ import annotations

import concurrent.futures
import threading
import uuid

import pytest
from neo4j.exceptions import TransientError as Neo4jTransientError

from docflow.core.errors import PermanentError, TransientError
from docflow.core.graph import (
    DocumentGraph,
    GraphStore,
    _replace_document_tx,
    create_co_occurs,
    entity_key,
    merge_entities,
)

pytestmark = [pytest.mark.neo4j]


def _document(project: str, doc_uuid: str, names: list[str], chunks: int = 2) -> DocumentGraph:
    keys = {name: entity_key(project_id=project, label="ORG", normalized_key=name.lower()) for name in names}
    return DocumentGraph(
        document_uuid=doc_uuid,
        project_id=project,
        name=f"{doc_uuid}.txt",
        file_type="txt",
        chunks=[
            {"index": i, "text": f"chunk {i}: {' '.join(names)}", "page_start": 1, "page_end": 1} for i in range(chunks)
        ],
        entities=[{"key": key, "name": name, "label": "ORG"} for name, key in keys.items()],
        mentions=[{"chunk_index": i, "entity_key": key, "count": 1} for i in range(chunks) for key in keys.values()],
        relationships=[
            {"source_key": keys[a], "target_key": keys[b], "weight": chunks}
            for n, a in enumerate(names)
            for b in names[n + 1 :]
        ],
    )


def _entity_names(store: GraphStore, project: str) -> set[str]:
    return {row["name"] for row in store.query("MATCH (e:Entity {project_id: $p}) RETURN e.name AS name", p=project)}


def _next_links(store: GraphStore, doc_uuid: str) -> int:
    return store.query("MATCH (a:Chunk {document_uuid: $u})-[n:NEXT]->(:Chunk) RETURN count(n) AS n", u=doc_uuid)[0][
        "n"
    ]


@pytest.fixture
def store(stack):
    with GraphStore(stack) as graph_store:
        graph_store.ensure_constraints()
        yield graph_store


def test_rewrites_replace_a_subgraph_and_keep_what_other_documents_share(store):
    project = f"graph-{uuid.uuid4().hex[:8]}"
    doc_a, doc_b = str(uuid.uuid4()), str(uuid.uuid4())
    try:
        # GIVEN document A naming Acme and Globex, and document B naming Acme
        store.replace_document(_document(project, doc_a, ["Acme", "Globex"], chunks=3))
        store.replace_document(_document(project, doc_b, ["Acme"]))
        first = store.document_counts(doc_a)
        assert first == {"chunks": 3, "mentions": 6, "entities": 2, "co_occurs": 1, "typed": 0}
        assert _next_links(store, doc_a) == 2

        # WHEN A is written again with the same content THEN nothing is duplicated
        store.replace_document(_document(project, doc_a, ["Acme", "Globex"], chunks=3))
        assert store.document_counts(doc_a) == first and _next_links(store, doc_a) == 2

        # WHEN A is rewritten naming only Initech, in one chunk
        store.replace_document(_document(project, doc_a, ["Initech"], chunks=1))
        # THEN A has exactly its new subgraph; Globex (only A named it) is gone; Acme (B) stays
        assert store.document_counts(doc_a) == {"chunks": 1, "mentions": 1, "entities": 1, "co_occurs": 0, "typed": 0}
        assert _next_links(store, doc_a) == 0
        assert _entity_names(store, project) == {"Acme", "Initech"}
        assert store.document_counts(doc_b) == {"chunks": 2, "mentions": 2, "entities": 1, "co_occurs": 0, "typed": 0}
    finally:
        store.delete_document(doc_a)
        store.delete_document(doc_b)
    # AND deleting both documents leaves no entity of theirs behind
    assert _entity_names(store, project) == set()


def test_concurrent_writers_of_one_document_leave_one_subgraph(store):
    project = f"graph-{uuid.uuid4().hex[:8]}"
    doc = str(uuid.uuid4())
    graph = _document(project, doc, ["Acme", "Globex", "Initech"], chunks=4)
    try:
        # WHEN four writers replace the same document at once (a duplicate delivery, amplified)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: store.replace_document(graph), range(4)))
        # THEN all succeed and the graph holds the document once
        assert all(r["chunks"] == 4 for r in results)
        assert store.document_counts(doc) == {"chunks": 4, "mentions": 12, "entities": 3, "co_occurs": 3, "typed": 0}
        assert store.query("MATCH (d:Document {uuid: $u}) RETURN count(d) AS n", u=doc) == [{"n": 1}]
        assert _next_links(store, doc) == 3
    finally:
        store.delete_document(doc)


def test_edges_join_the_entities_they_name_and_a_dangling_edge_fails_the_write_whole(store):
    project = f"graph-{uuid.uuid4().hex[:8]}"
    doc = str(uuid.uuid4())
    try:
        # GIVEN a document naming three entities, written once
        store.replace_document(_document(project, doc, ["Acme", "Globex", "Initech"], chunks=2))
        # THEN each CO_OCCURS edge joins the two entities its row named, with its weight
        edges = store.query(
            "MATCH (a:Entity)-[r:CO_OCCURS {document_uuid: $u}]->(b:Entity) RETURN a.name AS a, b.name AS b, r.weight AS w",
            u=doc,
        )
        assert sorted((e["a"], e["b"], e["w"]) for e in edges) == [
            ("Acme", "Globex", 2),
            ("Acme", "Initech", 2),
            ("Globex", "Initech", 2),
        ]
        mentioned = store.query(
            "MATCH (c:Chunk {document_uuid: $u})-[m:MENTIONS]->(e:Entity) RETURN c.index AS chunk, e.name AS name",
            u=doc,
        )
        assert sorted((m["chunk"], m["name"]) for m in mentioned) == [
            (c, n) for c in range(2) for n in ("Acme", "Globex", "Initech")
        ]

        # WHEN a rewrite carries an edge to an entity the document does not list (an upstream bug)
        bad = _document(project, doc, ["Acme"], chunks=1)
        ghost = entity_key(project_id=project, label="ORG", normalized_key="ghost")
        bad = DocumentGraph(
            **{
                **bad.__dict__,
                "relationships": [{"source_key": bad.entities[0]["key"], "target_key": ghost, "weight": 1}],
            }
        )
        # THEN the write fails as permanent, naming the entity, and rolls back whole
        with pytest.raises(PermanentError, match="ghost"):
            store.replace_document(bad)
        assert store.document_counts(doc) == {"chunks": 2, "mentions": 6, "entities": 3, "co_occurs": 3, "typed": 0}
    finally:
        store.delete_document(doc)
    assert _entity_names(store, project) == set()


def _overlap(store: GraphStore, first: DocumentGraph, second: DocumentGraph) -> tuple[bool, list[Exception]]:
    """Write ``first`` in an open transaction, start ``second`` in a thread, commit ``first``.

    Each write that fails is run again once, as the graph task's retry would; returns whether
    ``second`` had to wait for ``first`` and the errors the first attempts raised.
    """
    errors: list[Exception] = []

    def second_writer() -> None:
        try:
            store.replace_document(second)
        except TransientError as exc:
            errors.append(exc)
            store.replace_document(second)

    with store.driver.session(database=store.database) as session:
        tx = session.begin_transaction()
        _replace_document_tx(tx, graph=first)
        thread = threading.Thread(target=second_writer)
        thread.start()
        thread.join(timeout=1.5)
        waited = thread.is_alive()
        try:
            tx.commit()
        except Neo4jTransientError as exc:  # a deadlock victim: the driver's managed retry would re-run it
            errors.append(exc)
            thread.join()
            store.replace_document(first)
        finally:
            tx.close()
    thread.join()
    return waited, errors


@pytest.mark.parametrize("first_writer", ["new mention", "rewrite dropping the entity"])
def test_a_rewrite_never_drops_an_entity_a_concurrent_writer_is_mentioning(store, first_writer):
    project = f"graph-{uuid.uuid4().hex[:8]}"
    doc_a, doc_b = str(uuid.uuid4()), str(uuid.uuid4())
    # GIVEN document B is the only one naming "Shared"
    store.replace_document(_document(project, doc_b, ["Shared"]))
    mention = _document(project, doc_a, ["Shared"])  # A starts naming Shared
    rewrite = _document(project, doc_b, ["Other"])  # B no longer does: Shared is B's to drop
    try:
        # WHEN A's write and B's rewrite overlap, in either order of who starts first
        first, second = (mention, rewrite) if first_writer == "new mention" else (rewrite, mention)
        waited, errors = _overlap(store, first, second)
        # THEN the second writer waited for the first's locks, a failure was transient (retried),
        assert waited
        assert all(isinstance(e, (TransientError, Neo4jTransientError)) for e in errors), errors
        # AND A keeps every mention of Shared, B has its new subgraph, and Shared exists once
        assert store.document_counts(doc_a) == {"chunks": 2, "mentions": 2, "entities": 1, "co_occurs": 0, "typed": 0}
        assert store.document_counts(doc_b) == {"chunks": 2, "mentions": 2, "entities": 1, "co_occurs": 0, "typed": 0}
        assert _entity_names(store, project) == {"Shared", "Other"}
        assert store.query("MATCH (e:Entity {project_id: $p, name: 'Shared'}) RETURN count(e) AS n", p=project) == [
            {"n": 1}
        ]
    finally:
        store.delete_document(doc_a)
        store.delete_document(doc_b)


def test_an_edge_whose_entity_was_deleted_under_the_write_fails_it_as_transient_never_silently(store):
    project = f"graph-{uuid.uuid4().hex[:8]}"
    doc_a, doc_b = str(uuid.uuid4()), str(uuid.uuid4())
    # GIVEN document B is the only one naming "Shared"
    store.replace_document(_document(project, doc_b, ["Shared"]))
    graph_a = _document(project, doc_a, ["Shared", "Acme"])
    try:
        with store.driver.session(database=store.database) as session:
            tx = session.begin_transaction()
            # WHEN A's write has merged its entities (Shared matched, not locked) but not yet its edges
            node_ids = merge_entities(tx, entities=graph_a.entities, project_id=project)
            # AND B is rewritten without Shared and commits meanwhile, deleting it
            store.replace_document(_document(project, doc_b, ["Other"]))
            # THEN A's edge to Shared fails the write as transient instead of going missing
            with pytest.raises(TransientError, match="deleted by a concurrent write"):
                create_co_occurs(tx, relationships=graph_a.relationships, node_ids=node_ids, document_uuid=doc_a)
            tx.rollback()
        # AND the retry writes A whole, merging Shared anew
        store.replace_document(graph_a)
        assert store.document_counts(doc_a) == {"chunks": 2, "mentions": 4, "entities": 2, "co_occurs": 1, "typed": 0}
        assert _entity_names(store, project) == {"Shared", "Acme", "Other"}
    finally:
        store.delete_document(doc_a)
        store.delete_document(doc_b)
