"""Typed relationships in Neo4j: one relationship type per kind, with its properties and best evidence.

Every typed kind of :data:`docflow.core.relation_kinds.KINDS` is a Neo4j relationship type of the
same name (``(:Entity)-[:ROLE_AT]->(:Entity)``, ``[:ACQUIRED]``, ...), so Cypher reads it directly::

    MATCH (p:Entity)-[r:ROLE_AT]->(o:Entity {name: "Acme"}) WHERE NOT r.former RETURN p.name, r.role

Each edge is one document's statement of one relationship and carries ``document_uuid``,
``weight`` (places stating it in that document), ``confidence``, the relationship's properties
(``role``, ``role_type``, ``former``, ``date``, ``detail``) and its best evidence (``sentence``,
``page``, ``chunk_index``, ``char_start``, ``char_end``, ``producer``); every place is in
PostgreSQL's ``relationship_evidence``. The statements here are written by the graph stage inside the
transaction that replaces the document's subgraph (:mod:`docflow.core.graph`); kinds are interpolated
only from the vocabulary, never from data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from docflow.core.relation_kinds import CO_OCCURS, TYPED_KINDS

__all__ = [
    "COUNT_TYPED_CYPHER",
    "DELETE_TYPED_CYPHER",
    "TYPED_INDEXES",
    "create_typed_cypher",
    "split_relationships",
    "typed_row",
]

# Each type's edges are found by document for a rewrite or a delete: one relationship index per type.
TYPED_INDEXES = {
    f"{kind.lower()}_document": f"CREATE INDEX {kind.lower()}_document IF NOT EXISTS FOR ()-[r:{kind}]-() ON (r.document_uuid)"
    for kind in TYPED_KINDS
}
_EACH_KIND = "\n    UNION ALL\n    ".join(
    f"MATCH ()-[r:{kind} {{document_uuid: $uuid}}]->() DELETE r RETURN count(*) AS n" for kind in TYPED_KINDS
)
DELETE_TYPED_CYPHER = f"CALL () {{\n    {_EACH_KIND}\n}}\nRETURN sum(n) AS n"
COUNT_TYPED_CYPHER = "CALL () {{\n    {}\n}}\nRETURN sum(n) AS n".format(
    "\n    UNION ALL\n    ".join(
        f"MATCH ()-[r:{kind} {{document_uuid: $uuid}}]->() RETURN count(*) AS n" for kind in TYPED_KINDS
    )
)


def create_typed_cypher(kind: str) -> str:
    """The statement creating one document's edges of ``kind`` (rows: source id, target id, properties)."""
    if kind not in TYPED_KINDS:
        raise ValueError(f"not a typed relationship kind: {kind!r}")
    return f"""
UNWIND $rows AS row
MATCH (a) WHERE elementId(a) = row[0]
MATCH (b) WHERE elementId(b) = row[1]
CREATE (a)-[r:{kind}]->(b)
SET r = row[2]
RETURN count(*) AS created
"""


def split_relationships(relationships: Sequence[dict]) -> tuple[list[dict], dict[str, list[dict]]]:
    """Co-occurrence edges, and the typed ones by kind (an export of format 1 has no kind: co-occurrence)."""
    co_occurs: list[dict] = []
    typed: dict[str, list[dict]] = defaultdict(list)
    for relationship in relationships:
        kind = relationship.get("kind") or CO_OCCURS
        if kind == CO_OCCURS:
            co_occurs.append(relationship)
        else:
            typed[kind].append(relationship)
    return co_occurs, dict(sorted(typed.items()))


def typed_row(relationship: dict, node_id: Callable[[str], str], document_uuid: str) -> list[Any]:
    """One edge's row: the element ids of its ends and its properties (Neo4j takes no nested maps or nulls)."""
    properties: dict[str, Any] = {
        "document_uuid": document_uuid,
        "weight": relationship.get("weight", 1),
        "confidence": relationship.get("confidence") or 0.0,
    }
    for name, value in (relationship.get("properties") or {}).items():
        if isinstance(value, str | bool | int | float) and name not in properties:
            properties[name] = value
    evidence = relationship.get("evidence") or {}
    for name in ("sentence", "page", "chunk_index", "char_start", "char_end", "producer"):
        if evidence.get(name) is not None:
            properties[name] = evidence[name]
    return [node_id(relationship["source_key"]), node_id(relationship["target_key"]), properties]
