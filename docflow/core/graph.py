"""The knowledge graph in Neo4j.

Shape::

    (:Document {uuid})-[:HAS_CHUNK]->(:Chunk {key})-[:MENTIONS {count}]->(:Entity {key})
    (:Chunk)-[:NEXT]->(:Chunk)
    (:Entity)-[:CO_OCCURS {document_uuid, weight}]->(:Entity)
    (:Entity)-[:ROLE_AT|LOCATED_IN|ACQUIRED|... {document_uuid, weight, confidence, role, ..., sentence, page}]->(:Entity)

The typed relationships (one Neo4j type per kind of :mod:`docflow.core.relation_kinds`, with their
properties and best evidence) are written and removed with the co-occurrence edges, in the same
transaction and under the same rules (:mod:`docflow.core.typed_edges`).

Every node kind has a uniqueness constraint on its key; shared nodes (entities, documents) are
written with ``MERGE``, batched with ``UNWIND``. A document's subgraph is replaced as a whole in
one transaction (delete-then-write: its own chunks and edges are created fresh after the old ones
are removed), so a re-run never duplicates anything, and an entity is deleted only when
no chunk of any document mentions it any more. Co-occurrence edges carry the document they came
from, so one document's re-run cannot disturb another's contribution; a pair's total weight is
the sum over its edges.

Concurrent writers of different documents that share entities are safe: an entity is deleted
only under its write lock, after every overlapping writer mentioning it has committed (or lost a
deadlock and been retried by the driver); and when an entity a write has already merged is deleted
by a commit that came first, the write's edge statements create fewer edges than their rows and
the write fails as transient (or Neo4j reports the node gone), so the task's retry merges it anew.
Nothing is lost silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from neo4j import ManagedTransaction

from docflow.core.errors import PermanentError, TransientError
from docflow.core.graph_driver import Neo4jConnection
from docflow.core.typed_edges import (
    COUNT_TYPED_CYPHER,
    DELETE_TYPED_CYPHER,
    TYPED_CYPHER,
    TYPED_INDEXES,
    split_relationships,
    typed_row,
)

CONSTRAINTS = {
    "document_uuid": "CREATE CONSTRAINT document_uuid IF NOT EXISTS FOR (n:Document) REQUIRE n.uuid IS UNIQUE",
    "chunk_key": "CREATE CONSTRAINT chunk_key IF NOT EXISTS FOR (n:Chunk) REQUIRE n.key IS UNIQUE",
    "entity_key": "CREATE CONSTRAINT entity_key IF NOT EXISTS FOR (n:Entity) REQUIRE n.key IS UNIQUE",
}
INDEXES = {
    "co_occurs_document": "CREATE INDEX co_occurs_document IF NOT EXISTS FOR ()-[r:CO_OCCURS]-() ON (r.document_uuid)",
    "chunk_document": "CREATE INDEX chunk_document IF NOT EXISTS FOR (n:Chunk) ON (n.document_uuid)",
    **TYPED_INDEXES,
}


def entity_key(*, project_id: str, label: str, normalized_key: str) -> str:
    return f"{project_id}|{label}|{normalized_key}"


def chunk_key(*, document_uuid: str, chunk_index: int) -> str:
    return f"{document_uuid}:{chunk_index}"


@dataclass(frozen=True)
class DocumentGraph:
    """Everything one document contributes to the graph, as plain data."""

    document_uuid: str
    project_id: str
    name: str
    file_type: str | None
    chunks: Sequence[dict]  # {index, text, page_start, page_end}
    entities: Sequence[dict]  # {key, name, label}
    mentions: Sequence[dict]  # {chunk_index, entity_key, count}
    # {source_key, target_key, weight} for CO_OCCURS; typed ones add kind, confidence, properties and
    # evidence {sentence, page, chunk_index, char_start, char_end, producer} (docflow.core.typed_edges)
    relationships: Sequence[dict]


class GraphStore(Neo4jConnection):
    """The graph's reads and writes, on a connection with deadlines whose failures come out
    classified (:mod:`docflow.core.graph_driver`)."""

    def ensure_constraints(self) -> None:
        for statement in [*CONSTRAINTS.values(), *INDEXES.values()]:
            self.driver.execute_query(statement, database_=self.database)

    def missing_constraints(self) -> list[str]:
        present = {row["name"] for row in self.query("SHOW CONSTRAINTS YIELD name")}
        return sorted(set(CONSTRAINTS) - present)

    def replace_document(self, graph: DocumentGraph) -> dict[str, int]:
        """Replace the document's subgraph in one transaction. Idempotent."""
        return self.write("graph write", _replace_document_tx, graph=graph)

    def delete_document(self, document_uuid: str) -> dict[str, int]:
        """Remove the document's subgraph and the entities only it mentioned; what was removed."""
        return self.write("graph delete", _delete_document_tx, document_uuid=document_uuid)

    def document_counts(self, document_uuid: str) -> dict[str, int]:
        rows = self.query(
            """
            MATCH (d:Document {uuid: $uuid})
            OPTIONAL MATCH (d)-[:HAS_CHUNK]->(c:Chunk)
            WITH d, collect(c) AS chunks
            OPTIONAL MATCH (c2:Chunk)-[m:MENTIONS]->(e:Entity) WHERE c2 IN chunks
            WITH d, chunks, count(m) AS mentions, count(DISTINCT e) AS entities
            OPTIONAL MATCH ()-[r:CO_OCCURS {document_uuid: $uuid}]->()
            RETURN size(chunks) AS chunks, mentions, entities, count(r) AS co_occurs
            """,
            uuid=document_uuid,
        )
        counts = rows[0] if rows else {"chunks": 0, "mentions": 0, "entities": 0, "co_occurs": 0}
        counts["typed"] = self.query(COUNT_TYPED_CYPHER, uuid=document_uuid)[0]["n"] or 0
        return counts


# Entities are merged on their constrained key once per transaction; the statement hands back each
# node's element id, and every edge to an entity is then created through that id: a direct record
# lookup instead of a second and third index seek per edge (measured: ~35% less Neo4j CPU per
# CO_OCCURS edge). Element ids are only stable while the node exists, so they are used only in
# the transaction that merged the entity, never stored. A MERGE that matches an existing node does
# not lock it: a concurrent transaction can delete the node before the edges to it are created
# (measured), so every edge statement counts what it created and a shortfall fails the write as
# transient (``_create_edges``); the retry merges the entity anew.
ENTITIES_CYPHER = """
UNWIND $rows AS row
MERGE (e:Entity {key: row[0]})
ON CREATE SET e.name = row[1], e.label = row[2], e.project_id = $project
RETURN row[0] AS key, elementId(e) AS id
"""
# The document's relationship statements run right after its old subgraph was deleted in the
# same transaction, so every relationship they write is new: CREATE, not MERGE (no existence
# check per edge). Rows are lists, not maps: less to pack in the driver and to unpack in Neo4j.
CO_OCCURS_CYPHER = """
UNWIND $rows AS row
MATCH (a) WHERE elementId(a) = row[0]
MATCH (b) WHERE elementId(b) = row[1]
CREATE (a)-[:CO_OCCURS {document_uuid: $uuid, weight: row[2]}]->(b)
RETURN count(*) AS created
"""
MENTIONS_CYPHER = """
UNWIND $rows AS row
MATCH (c:Chunk {key: row[0]})
MATCH (e) WHERE elementId(e) = row[1]
CREATE (c)-[:MENTIONS {count: row[2]}]->(e)
RETURN count(*) AS created
"""


def entity_rows(entities: Sequence[dict]) -> list[list]:
    return [[e["key"], e["name"], e["label"]] for e in entities]


def merge_entities(tx: ManagedTransaction, *, entities: Sequence[dict], project_id: str) -> dict[str, str]:
    """MERGE ``entities`` on their key; return key -> element id, for use in this transaction."""
    result = tx.run(ENTITIES_CYPHER, rows=entity_rows(entities), project=project_id)
    return {record["key"]: record["id"] for record in result}


def _node_id(node_ids: dict[str, str], key: str) -> str:
    try:
        return node_ids[key]
    except KeyError:
        # The graph step derives edges from the document's own entities; an edge to any other
        # entity is a bug upstream, and must not become a silently missing edge.
        raise PermanentError(f"graph edge names entity {key!r}, which the document does not list") from None


def co_occurs_rows(relationships: Sequence[dict], node_ids: dict[str, str]) -> list[list]:
    return [
        [_node_id(node_ids, r["source_key"]), _node_id(node_ids, r["target_key"]), r["weight"]] for r in relationships
    ]


def _create_edges(tx: ManagedTransaction, cypher: str, *, what: str, rows: list[list[Any]], **params: Any) -> None:
    created = tx.run(cypher, rows=rows, **params).single(strict=True)["created"]
    if created != len(rows):
        raise TransientError(
            f"{len(rows) - created} of {len(rows)} {what} edges found no node: "
            f"an entity was deleted by a concurrent write"
        )


def create_co_occurs(
    tx: ManagedTransaction, *, relationships: Sequence[dict], node_ids: dict[str, str], document_uuid: str
) -> None:
    """CREATE one CO_OCCURS edge per relationship, tagged with the document it came from."""
    _create_edges(
        tx, CO_OCCURS_CYPHER, what="CO_OCCURS", rows=co_occurs_rows(relationships, node_ids), uuid=document_uuid
    )


def _delete_document_tx(tx: ManagedTransaction, *, document_uuid: str) -> dict[str, int]:
    """Remove a document's node, chunks and edges, and the entities no other chunk mentions."""
    record = tx.run(
        """
        MATCH (c:Chunk {document_uuid: $uuid})
        OPTIONAL MATCH (c)-[:MENTIONS]->(e:Entity)
        WITH collect(DISTINCT c) AS chunks, collect(DISTINCT e.key) AS keys
        FOREACH (c IN chunks | DETACH DELETE c)
        RETURN size(chunks) AS chunks, keys
        """,
        uuid=document_uuid,
    ).single(strict=True)
    edges = tx.run(
        "MATCH ()-[r:CO_OCCURS {document_uuid: $uuid}]->() DELETE r RETURN count(r) AS n", uuid=document_uuid
    ).single(strict=True)["n"]
    typed = tx.run(DELETE_TYPED_CYPHER, uuid=document_uuid).single(strict=True)["n"]
    nodes = tx.run("MATCH (d:Document {uuid: $uuid}) DETACH DELETE d RETURN count(d) AS n", uuid=document_uuid).single(
        strict=True
    )["n"]
    entities = _drop_unmentioned(tx, record["keys"])
    return {
        "graph_documents": nodes,
        "graph_chunks": record["chunks"],
        "graph_co_occurs": edges,
        "graph_typed": typed,
        "graph_entities": entities,
    }


def _drop_unmentioned(tx: ManagedTransaction, keys: list[str]) -> int:
    """Delete the entities among ``keys`` that no chunk mentions any more; how many went."""
    if not keys:
        return 0
    # An entity survives while any chunk of any document still mentions it. The entity is
    # write-locked before that is checked: a concurrent writer that is mentioning it right now
    # holds its lock (creating an edge locks both ends), so the check waits for that writer's
    # commit and then sees its mention. Checked unlocked, the entity was deleted -- with the other
    # document's new edges, silently -- whenever the two transactions overlapped.
    removed: int = tx.run(
        """
        UNWIND $keys AS key
        MATCH (e:Entity {key: key})
        SET e.project_id = e.project_id
        WITH e
        WHERE NOT EXISTS { (:Chunk)-[:MENTIONS]->(e) }
        DETACH DELETE e
        RETURN count(e) AS n
        """,
        keys=keys,
    ).single(strict=True)["n"]
    return removed


def _replace_document_tx(tx: ManagedTransaction, *, graph: DocumentGraph) -> dict[str, int]:
    uuid = graph.document_uuid
    # First statement: the document node, write-locked (SET) for the rest of the transaction, so
    # two writers of one document (a duplicate delivery) run one after the other; then its old
    # chunks go. A document written for the first time costs this one statement and no more.
    cleared = tx.run(
        """
        MERGE (d:Document {uuid: $uuid})
        SET d.name = $name, d.project_id = $project, d.file_type = $file_type
        WITH d
        OPTIONAL MATCH (d)-[:HAS_CHUNK]->(c:Chunk)
        OPTIONAL MATCH (c)-[:MENTIONS]->(e:Entity)
        WITH collect(DISTINCT c) AS chunks, collect(DISTINCT e.key) AS keys
        FOREACH (c IN chunks | DETACH DELETE c)
        RETURN size(chunks) AS chunks, keys
        """,
        uuid=uuid,
        name=graph.name,
        project=graph.project_id,
        file_type=graph.file_type,
    ).single(strict=True)
    old_keys = cleared["keys"]
    if cleared["chunks"]:  # relationships need chunks: without old chunks there are no old edges
        tx.run("MATCH ()-[r:CO_OCCURS {document_uuid: $uuid}]->() DELETE r", uuid=uuid)
        tx.run(DELETE_TYPED_CYPHER, uuid=uuid)
    chunk_rows = [
        [chunk_key(document_uuid=uuid, chunk_index=c["index"]), c["index"], c["text"], c["page_start"], c["page_end"]]
        for c in sorted(graph.chunks, key=lambda c: c["index"])
    ]
    # The chunks (in order) and their NEXT chain, in one statement.
    tx.run(
        """
        MATCH (d:Document {uuid: $uuid})
        UNWIND $rows AS row
        CREATE (c:Chunk {key: row[0], document_uuid: $uuid, index: row[1], text: row[2],
                         page_start: row[3], page_end: row[4]})
        CREATE (d)-[:HAS_CHUNK]->(c)
        WITH c ORDER BY c.index
        WITH collect(c) AS chunks
        UNWIND range(0, size(chunks) - 2) AS i
        WITH chunks[i] AS a, chunks[i + 1] AS b
        CREATE (a)-[:NEXT]->(b)
        """,
        uuid=uuid,
        rows=chunk_rows,
    )
    node_ids = merge_entities(tx, entities=graph.entities, project_id=graph.project_id)
    _create_edges(
        tx,
        MENTIONS_CYPHER,
        what="MENTIONS",
        rows=[
            [
                chunk_key(document_uuid=uuid, chunk_index=m["chunk_index"]),
                _node_id(node_ids, m["entity_key"]),
                m["count"],
            ]
            for m in graph.mentions
        ],
    )
    co_occurs, typed = split_relationships(graph.relationships)
    create_co_occurs(tx, relationships=co_occurs, node_ids=node_ids, document_uuid=uuid)
    if typed:
        rows = [typed_row(r, lambda key: _node_id(node_ids, key), uuid) for r in typed]
        _create_edges(tx, TYPED_CYPHER, what="typed", rows=rows)
    # Entities only this document mentioned before the re-run, and no longer, are removed.
    _drop_unmentioned(tx, old_keys)
    return {
        "chunks": len(chunk_rows),
        "entities": len(graph.entities),
        "mentions": len(graph.mentions),
        "relationships": len(graph.relationships),
    }
