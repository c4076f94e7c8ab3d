"""The graph stage's write for a batch of documents: every document's subgraph replaced whole, in
one Neo4j transaction of a fixed number of ``UNWIND`` statements, whatever the batch's size.

The same shape and rules as :func:`docflow.core.graph.GraphStore.replace_document` (see
:mod:`docflow.core.graph`): each document node is merged and write-locked first (in uuid order, so
two batches lock them in the same order), its old chunks and edges go, its chunks, ``NEXT`` chain,
mentions, co-occurrence and typed edges (:mod:`docflow.core.typed_edges`) are created fresh; the entities of the whole batch are merged
once, in key order, and edges reach them through the element ids that merge returns; entities
only the batch's old subgraphs mentioned are removed when nothing mentions them any more. Every
edge statement counts what it created, so an entity deleted by a concurrent write fails the
transaction as transient (it is retried whole) instead of silently losing an edge.
"""

from __future__ import annotations

from collections.abc import Sequence

from neo4j import ManagedTransaction

from docflow.core.graph import (
    MENTIONS_CYPHER,
    DocumentGraph,
    GraphStore,
    _create_edges,
    _drop_unmentioned,
    _node_id,
    chunk_key,
)
from docflow.core.typed_edges import DELETE_TYPED_CYPHER, TYPED_CYPHER, split_relationships, typed_row

CLEAR_CYPHER = """
UNWIND $documents AS doc
MERGE (d:Document {uuid: doc[0]})
SET d.name = doc[1], d.project_id = doc[2], d.file_type = doc[3]
WITH d
OPTIONAL MATCH (d)-[:HAS_CHUNK]->(c:Chunk)
OPTIONAL MATCH (c)-[:MENTIONS]->(e:Entity)
WITH d, collect(DISTINCT c) AS chunks, collect(DISTINCT e.key) AS keys
FOREACH (c IN chunks | DETACH DELETE c)
RETURN d.uuid AS uuid, size(chunks) AS chunks, keys
"""
DELETE_CO_OCCURS_CYPHER = """
UNWIND $uuids AS uuid
MATCH ()-[r:CO_OCCURS {document_uuid: uuid}]->()
DELETE r
"""
CHUNKS_CYPHER = """
UNWIND $rows AS row
MATCH (d:Document {uuid: row[5]})
CREATE (c:Chunk {key: row[0], document_uuid: row[5], index: row[1], text: row[2], page_start: row[3],
                 page_end: row[4]})
CREATE (d)-[:HAS_CHUNK]->(c)
"""
NEXT_CYPHER = """
UNWIND $rows AS row
MATCH (a:Chunk {key: row[0]})
MATCH (b:Chunk {key: row[1]})
CREATE (a)-[:NEXT]->(b)
RETURN count(*) AS created
"""
ENTITIES_CYPHER = """
UNWIND $rows AS row
MERGE (e:Entity {key: row[0]})
ON CREATE SET e.name = row[1], e.label = row[2], e.project_id = row[3]
RETURN row[0] AS key, elementId(e) AS id
"""
CO_OCCURS_CYPHER = """
UNWIND $rows AS row
MATCH (a) WHERE elementId(a) = row[0]
MATCH (b) WHERE elementId(b) = row[1]
CREATE (a)-[:CO_OCCURS {document_uuid: row[3], weight: row[2]}]->(b)
RETURN count(*) AS created
"""


def replace_documents_tx(tx: ManagedTransaction, *, graphs: Sequence[DocumentGraph]) -> dict[str, dict[str, int]]:
    """Replace every graph's subgraph in this transaction; counts per document uuid."""
    graphs = sorted(graphs, key=lambda g: g.document_uuid)
    cleared = tx.run(
        CLEAR_CYPHER, documents=[[g.document_uuid, g.name, g.project_id, g.file_type] for g in graphs]
    ).data()
    rewritten = [row["uuid"] for row in cleared if row["chunks"]]  # without old chunks, no old edges
    if rewritten:
        tx.run(DELETE_CO_OCCURS_CYPHER, uuids=rewritten)
        for uuid in rewritten:  # typed edges: one statement per re-run document (kinds are types)
            tx.run(DELETE_TYPED_CYPHER, uuid=uuid)
    chunk_rows, pairs = [], []
    for graph in graphs:
        indexes = sorted(c["index"] for c in graph.chunks)
        keys = [chunk_key(document_uuid=graph.document_uuid, chunk_index=i) for i in indexes]
        pairs += [[a, b] for a, b in zip(keys, keys[1:], strict=False)]
        for c in sorted(graph.chunks, key=lambda c: c["index"]):
            key = chunk_key(document_uuid=graph.document_uuid, chunk_index=c["index"])
            chunk_rows.append([key, c["index"], c["text"], c["page_start"], c["page_end"], graph.document_uuid])
    tx.run(CHUNKS_CYPHER, rows=chunk_rows)
    if pairs:
        _create_edges(tx, NEXT_CYPHER, what="NEXT", rows=pairs)
    entities = {e["key"]: [e["key"], e["name"], e["label"], g.project_id] for g in graphs for e in g.entities}
    node_ids = {
        record["key"]: record["id"] for record in tx.run(ENTITIES_CYPHER, rows=[entities[k] for k in sorted(entities)])
    }
    mention_rows = [
        [
            chunk_key(document_uuid=g.document_uuid, chunk_index=m["chunk_index"]),
            _node_id(node_ids, m["entity_key"]),
            m["count"],
        ]
        for g in graphs
        for m in g.mentions
    ]
    _create_edges(tx, MENTIONS_CYPHER, what="MENTIONS", rows=mention_rows)
    split = {g.document_uuid: split_relationships(g.relationships) for g in graphs}
    co_occurs = [
        [_node_id(node_ids, r["source_key"]), _node_id(node_ids, r["target_key"]), r["weight"], g.document_uuid]
        for g in graphs
        for r in split[g.document_uuid][0]
    ]
    _create_edges(tx, CO_OCCURS_CYPHER, what="CO_OCCURS", rows=co_occurs)
    typed = [
        typed_row(r, lambda key: _node_id(node_ids, key), g.document_uuid)
        for g in graphs
        for r in split[g.document_uuid][1]
    ]
    if typed:
        _create_edges(tx, TYPED_CYPHER, what="typed", rows=typed)
    # Entities only these documents mentioned before the re-run, and no longer, are removed.
    _drop_unmentioned(tx, sorted({key for row in cleared for key in row["keys"]}))
    return {
        g.document_uuid: {
            "chunks": len(g.chunks),
            "entities": len(g.entities),
            "mentions": len(g.mentions),
            "relationships": len(g.relationships),
        }
        for g in graphs
    }


def replace_documents(store: GraphStore, graphs: Sequence[DocumentGraph]) -> dict[str, dict[str, int]]:
    """Replace the subgraphs of ``graphs`` in one transaction. Idempotent."""
    return store.write("graph write", replace_documents_tx, graphs=graphs)
