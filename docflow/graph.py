"""The knowledge graph in Neo4j.

Shape::

    (:Document {uuid})-[:HAS_CHUNK]->(:Chunk {key})-[:MENTIONS {count}]->(:Entity {key})
    (:Chunk)-[:NEXT]->(:Chunk)
    (:Entity)-[:CO_OCCURS {document_uuid, weight}]->(:Entity)

Every node kind has a uniqueness constraint on its key and every write is a ``MERGE``, batched
with ``UNWIND``. A document's subgraph is replaced as a whole in one transaction
(delete-then-merge), so a re-run never duplicates anything, and an entity is deleted only when
no chunk of any document mentions it any more. Co-occurrence edges carry the document they came
from, so one document's re-run cannot disturb another's contribution; a pair's total weight is
the sum over its edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import neo4j
from neo4j import GraphDatabase
from neo4j.exceptions import ClientError, Neo4jError, ServiceUnavailable, SessionExpired, TransientError as Neo4jTransient

from docflow.errors import PermanentError, TransientError
from docflow.settings import Settings

CONSTRAINTS = {
    "document_uuid": "CREATE CONSTRAINT document_uuid IF NOT EXISTS FOR (n:Document) REQUIRE n.uuid IS UNIQUE",
    "chunk_key": "CREATE CONSTRAINT chunk_key IF NOT EXISTS FOR (n:Chunk) REQUIRE n.key IS UNIQUE",
    "entity_key": "CREATE CONSTRAINT entity_key IF NOT EXISTS FOR (n:Entity) REQUIRE n.key IS UNIQUE",
}
INDEXES = {
    "co_occurs_document": "CREATE INDEX co_occurs_document IF NOT EXISTS FOR ()-[r:CO_OCCURS]-() ON (r.document_uuid)",
    "chunk_document": "CREATE INDEX chunk_document IF NOT EXISTS FOR (n:Chunk) ON (n.document_uuid)",
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
    chunks: Sequence[dict]         # {index, text, page_start, page_end}
    entities: Sequence[dict]       # {key, name, label}
    mentions: Sequence[dict]       # {chunk_index, entity_key, count}
    relationships: Sequence[dict]  # {source_key, target_key, weight}


class GraphStore:
    """A Neo4j driver with timeouts; failures come out classified as transient or permanent."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.database = settings.neo4j_database
        self.driver = GraphDatabase.driver(
            settings.neo4j_uri,
            auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
            connection_timeout=min(settings.neo4j_timeout_s, 10.0),
            connection_acquisition_timeout=settings.neo4j_timeout_s,
            max_transaction_retry_time=settings.neo4j_timeout_s,
            # UNWIND + MATCH on two constrained keys is an intended "cartesian product" of single
            # rows; informational notices about it would flood the worker logs.
            notifications_min_severity="WARNING",
        )

    def __enter__(self) -> "GraphStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.driver.close()

    def _run(self, what: str, work, **params):
        try:
            with self.driver.session(database=self.database) as session:
                return session.execute_write(work, **params)
        except (ServiceUnavailable, SessionExpired, Neo4jTransient, OSError) as exc:
            raise TransientError(f"neo4j unavailable during {what}: {type(exc).__name__}") from None
        except ClientError as exc:
            if exc.code and "Security" in exc.code:
                raise TransientError(f"neo4j refused the credentials during {what}") from None
            raise PermanentError(f"neo4j rejected {what}: {exc.code}") from None
        except Neo4jError as exc:
            raise TransientError(f"neo4j error during {what}: {exc.code}") from None

    def query(self, cypher: str, **params) -> list[dict]:
        """A read query (for checks and tests); parameters always go as parameters."""
        try:
            records, _, _ = self.driver.execute_query(
                cypher, parameters_=params, database_=self.database, routing_=neo4j.RoutingControl.READ
            )
        except (ServiceUnavailable, SessionExpired, OSError) as exc:
            raise TransientError(f"neo4j unavailable: {type(exc).__name__}") from None
        return [record.data() for record in records]

    def ping(self) -> None:
        self.driver.verify_connectivity()

    def ensure_constraints(self) -> None:
        for statement in [*CONSTRAINTS.values(), *INDEXES.values()]:
            self.driver.execute_query(statement, database_=self.database)

    def missing_constraints(self) -> list[str]:
        present = {row["name"] for row in self.query("SHOW CONSTRAINTS YIELD name")}
        return sorted(set(CONSTRAINTS) - present)

    def replace_document(self, graph: DocumentGraph) -> dict[str, int]:
        """Replace the document's subgraph in one transaction. Idempotent."""
        return self._run("graph write", _replace_document_tx, graph=graph)

    def delete_document(self, document_uuid: str) -> None:
        self._run("graph delete", _delete_document_tx, document_uuid=document_uuid)

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
        return rows[0] if rows else {"chunks": 0, "mentions": 0, "entities": 0, "co_occurs": 0}


def _delete_document_tx(tx, *, document_uuid: str) -> list[str]:
    """Remove a document's chunks and edges; return the keys of entities it mentioned."""
    record = tx.run(
        """
        MATCH (c:Chunk {document_uuid: $uuid})
        OPTIONAL MATCH (c)-[:MENTIONS]->(e:Entity)
        WITH collect(DISTINCT c) AS chunks, collect(DISTINCT e.key) AS keys
        FOREACH (c IN chunks | DETACH DELETE c)
        RETURN keys
        """,
        uuid=document_uuid,
    ).single()
    tx.run("MATCH ()-[r:CO_OCCURS {document_uuid: $uuid}]->() DELETE r", uuid=document_uuid)
    tx.run("MATCH (d:Document {uuid: $uuid}) DETACH DELETE d", uuid=document_uuid)
    keys = record["keys"] if record else []
    _drop_unmentioned(tx, keys)
    return keys


def _drop_unmentioned(tx, keys: list[str]) -> None:
    # An entity survives while any chunk of any document still mentions it.
    tx.run(
        """
        UNWIND $keys AS key
        MATCH (e:Entity {key: key})
        WHERE NOT EXISTS { (:Chunk)-[:MENTIONS]->(e) }
        DETACH DELETE e
        """,
        keys=keys,
    )


def _replace_document_tx(tx, *, graph: DocumentGraph) -> dict[str, int]:
    uuid = graph.document_uuid
    old_keys = _delete_document_tx(tx, document_uuid=uuid)
    tx.run(
        "MERGE (d:Document {uuid: $uuid}) SET d.name = $name, d.project_id = $project, d.file_type = $file_type",
        uuid=uuid, name=graph.name, project=graph.project_id, file_type=graph.file_type,
    )
    chunk_rows = [
        {"key": chunk_key(document_uuid=uuid, chunk_index=c["index"]), **c} for c in graph.chunks
    ]
    tx.run(
        """
        MATCH (d:Document {uuid: $uuid})
        UNWIND $rows AS row
        MERGE (c:Chunk {key: row.key})
        SET c.document_uuid = $uuid, c.index = row.index, c.text = row.text,
            c.page_start = row.page_start, c.page_end = row.page_end
        MERGE (d)-[:HAS_CHUNK]->(c)
        """,
        uuid=uuid, rows=chunk_rows,
    )
    tx.run(
        """
        UNWIND $pairs AS pair
        MATCH (a:Chunk {key: pair[0]}), (b:Chunk {key: pair[1]})
        MERGE (a)-[:NEXT]->(b)
        """,
        pairs=[[a["key"], b["key"]] for a, b in zip(chunk_rows, chunk_rows[1:])],
    )
    tx.run(
        """
        UNWIND $rows AS row
        MERGE (e:Entity {key: row.key})
        ON CREATE SET e.name = row.name, e.label = row.label, e.project_id = $project
        """,
        rows=list(graph.entities), project=graph.project_id,
    )
    tx.run(
        """
        UNWIND $rows AS row
        MATCH (c:Chunk {key: row.chunk_key}), (e:Entity {key: row.entity_key})
        MERGE (c)-[m:MENTIONS]->(e)
        SET m.count = row.count
        """,
        rows=[
            {"chunk_key": chunk_key(document_uuid=uuid, chunk_index=m["chunk_index"]),
             "entity_key": m["entity_key"], "count": m["count"]}
            for m in graph.mentions
        ],
    )
    tx.run(
        """
        UNWIND $rows AS row
        MATCH (a:Entity {key: row.source_key}), (b:Entity {key: row.target_key})
        MERGE (a)-[r:CO_OCCURS {document_uuid: $uuid}]->(b)
        SET r.weight = row.weight
        """,
        rows=list(graph.relationships), uuid=uuid,
    )
    # Entities only this document mentioned before the re-run, and no longer, are removed.
    _drop_unmentioned(tx, old_keys)
    return {
        "chunks": len(chunk_rows),
        "entities": len(graph.entities),
        "mentions": len(graph.mentions),
        "relationships": len(graph.relationships),
    }
