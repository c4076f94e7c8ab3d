"""Typed relationships in Neo4j: one relationship type per kind, with its properties and best evidence.

Every typed kind of :data:`docflow.core.relation_kinds.KINDS` is a Neo4j relationship type of the
same name (``(:Entity)-[:ROLE_AT]->(:Entity)``, ``[:ACQUIRED]``, ...), so Cypher reads it directly::

    MATCH (p:Entity)-[r:ROLE_AT]->(o:Entity {name: "Acme"}) WHERE NOT r.former RETURN p.name, r.role

Each edge is one document's statement of one relationship and carries ``document_uuid``,
``weight`` (places stating it in that document), ``confidence``, the relationship's properties
(``role``, ``role_type``, ``former``, ``date``, ``detail``) and its best evidence (``sentence``,
``page``, ``chunk_index``, ``char_start``, ``char_end``, ``producer``); every place is in
PostgreSQL's ``relationship_evidence``. The statements here are run by the graph stage inside the
transaction that replaces the document's subgraph (:mod:`docflow.core.graph`); kinds are interpolated
only from the vocabulary, never from data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from docflow.core.relation_kinds import CO_OCCURS, TYPED_KINDS

__all__ = [
    "COUNT_TYPED_CYPHER",
    "DELETE_TYPED_CYPHER",
    "TYPED_INDEXES",
    "TYPED_CYPHER",
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


# All of a document's typed edges in one statement (one round trip whatever the number of kinds):
# Cypher takes no relationship type as a parameter, so each row's kind picks one FOREACH branch.
# A row whose two nodes are both found creates exactly one edge, so the rows counted are the edges
# created (the shortfall check of docflow.core.graph._create_edges).
TYPED_CYPHER = (
    """
UNWIND $rows AS row
MATCH (a) WHERE elementId(a) = row[0]
MATCH (b) WHERE elementId(b) = row[1]
"""
    + "\n".join(
        f"FOREACH (_ IN CASE WHEN row[3] = '{kind}' THEN [1] ELSE [] END | CREATE (a)-[r:{kind}]->(b) SET r = row[2])"
        for kind in TYPED_KINDS
    )
    + "\nRETURN count(*) AS created\n"
)


def split_relationships(relationships: Sequence[dict]) -> tuple[list[dict], list[dict]]:
    """Co-occurrence edges and typed ones (an export of format 1 has no kind: co-occurrence)."""
    co_occurs = [r for r in relationships if (r.get("kind") or CO_OCCURS) == CO_OCCURS]
    typed = [r for r in relationships if (r.get("kind") or CO_OCCURS) != CO_OCCURS]
    return co_occurs, typed


def typed_row(relationship: dict, node_id: Callable[[str], str], document_uuid: str) -> list[Any]:
    """One edge's row for :data:`TYPED_CYPHER`: the element ids of its ends, its properties (Neo4j takes
    no nested maps or nulls) and its kind."""
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
    kind = relationship["kind"]
    if kind not in TYPED_KINDS:
        raise ValueError(f"not a typed relationship kind: {kind!r}")
    return [node_id(relationship["source_key"]), node_id(relationship["target_key"]), properties, kind]
