"""Exploring an entity: which documents and pages mention it, and who appears with it.

Names are matched fuzzily in PostgreSQL (trigram similarity on the canonical name, so "Gonzales"
finds "Maria Gonzalez"), the truth for what entities exist. The neighbourhood is read from the
Neo4j graph: the documents and pages whose chunks mention the entity, and the entities it
co-occurs with, strongest first (summed ``CO_OCCURS`` weights). When Neo4j cannot be reached the
same answer is computed from PostgreSQL's mentions and co-occurrence relationships, and the view
says so. The typed relationships, with their evidence, are :mod:`docflow.ops.lifecycle.relations`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from docflow.core.db import fetch_all
from docflow.core.errors import TransientError
from docflow.core.graph import GraphStore, entity_key
from docflow.core.settings import Settings

MIN_SIMILARITY = 0.3

_MATCH_SQL = """
SELECT e.id, e.project_id, e.label, e.normalized_key, e.display_name,
       greatest(similarity(e.display_name, %(name)s), CASE WHEN e.display_name ILIKE %(like)s THEN 0.9 ELSE 0 END) AS score,
       (SELECT count(DISTINCT m.document_id) FROM entity_mentions m WHERE m.canonical_entity_id = e.id) AS documents
FROM canonical_entities e
WHERE (e.display_name %% %(name)s OR e.display_name ILIKE %(like)s)
  AND (%(project)s::text IS NULL OR e.project_id = %(project)s::text)
ORDER BY score DESC, documents DESC, e.display_name
LIMIT %(limit)s
"""

_GRAPH_DOCUMENTS = """
MATCH (e:Entity {key: $key})<-[m:MENTIONS]-(c:Chunk)<-[:HAS_CHUNK]-(d:Document)
WITH d, sum(m.count) AS mentions, collect(c) AS chunks
RETURN d.uuid AS document_uuid, d.name AS name, mentions,
       reduce(pages = [], c IN chunks | pages + range(c.page_start, c.page_end)) AS pages
ORDER BY mentions DESC, name
LIMIT $limit
"""
_GRAPH_NEIGHBOURS = """
MATCH (e:Entity {key: $key})-[r:CO_OCCURS]-(other:Entity)
WITH other, sum(r.weight) AS weight, count(DISTINCT r.document_uuid) AS documents
RETURN other.key AS key, other.name AS name, other.label AS label, weight, documents
ORDER BY weight DESC, name
LIMIT $limit
"""
_PG_DOCUMENTS = """
SELECT d.document_uuid::text, d.original_file_name, count(DISTINCT m.id) AS mentions,
       array_agg(DISTINCT page) AS pages
FROM entity_mentions m
JOIN chunks c ON c.document_id = m.document_id AND c.chunk_index = m.chunk_index
CROSS JOIN LATERAL generate_series(c.page_start, c.page_end) AS page
JOIN source_documents d ON d.id = m.document_id
WHERE m.canonical_entity_id = %(id)s
GROUP BY d.id ORDER BY mentions DESC, d.original_file_name LIMIT %(limit)s
"""
_PG_NEIGHBOURS = """
SELECT o.project_id, o.label, o.normalized_key, o.display_name, sum(r.weight) AS weight,
       count(DISTINCT r.document_id) AS documents
FROM entity_relationships r
JOIN canonical_entities o ON o.id = CASE WHEN r.source_entity_id = %(id)s THEN r.target_entity_id ELSE r.source_entity_id END
WHERE (r.source_entity_id = %(id)s OR r.target_entity_id = %(id)s) AND r.kind = 'CO_OCCURS'
GROUP BY o.id ORDER BY weight DESC, o.display_name LIMIT %(limit)s
"""


class ExploreError(ValueError):
    """A lookup that cannot be run; the message says why."""


@dataclass
class EntityMatch:
    entity_id: int
    project_id: str
    label: str
    key: str  # the graph key (project|label|normalized)
    name: str
    score: float
    documents: int


@dataclass
class EntityView:
    entity: EntityMatch
    documents: list[dict[str, Any]] = field(default_factory=list)  # uuid, name, mentions, pages
    neighbours: list[dict[str, Any]] = field(default_factory=list)  # key, name, label, weight, documents
    source: str = "neo4j"  # or "postgresql (Neo4j unavailable: ...)"
    other_matches: list[EntityMatch] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def match_entities(name: str, *, project_id: str | None = None, limit: int = 10) -> list[EntityMatch]:
    """Canonical entities whose name is like ``name``, best first."""
    text = " ".join(name.split())
    if not text:
        raise ExploreError("the entity name is empty")
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = fetch_all(_MATCH_SQL, {"name": text, "like": like, "project": project_id, "limit": limit})
    return [
        EntityMatch(
            id_,
            project,
            label,
            entity_key(project_id=project, label=label, normalized_key=key),
            display,
            round(float(score), 3),
            int(documents),
        )
        for id_, project, label, key, display, score, documents in rows
        if float(score) >= MIN_SIMILARITY
    ]


_BY_ID_SQL = """
SELECT e.id, e.project_id, e.label, e.normalized_key, e.display_name, 1.0,
       (SELECT count(DISTINCT m.document_id) FROM entity_mentions m WHERE m.canonical_entity_id = e.id)
FROM canonical_entities e WHERE e.id = %(id)s
"""
_IDS_BY_KEY_SQL = """
SELECT project_id || '|' || label || '|' || normalized_key, id FROM canonical_entities
WHERE project_id || '|' || label || '|' || normalized_key = ANY(%(keys)s)
"""
_DOCUMENT_IDS_SQL = "SELECT document_uuid::text, id FROM source_documents WHERE document_uuid::text = ANY(%(uuids)s)"


def _match(row: tuple[Any, ...]) -> EntityMatch:
    id_, project, label, key, display, score, documents = row
    return EntityMatch(
        id_,
        project,
        label,
        entity_key(project_id=project, label=label, normalized_key=key),
        display,
        round(float(score), 3),
        int(documents),
    )


def explore_entity(
    name: str, *, settings: Settings, project_id: str | None = None, limit: int = 20, graph: GraphStore | None = None
) -> EntityView | None:
    """The best match for ``name`` with its documents, pages and strongest co-occurring entities."""
    matches = match_entities(name, project_id=project_id)
    if not matches:
        return None
    return entity_view(matches[0], settings=settings, limit=limit, graph=graph, other_matches=matches[1:])


def explore_entity_by_id(
    entity_id: int, *, settings: Settings, limit: int = 20, graph: GraphStore | None = None
) -> EntityView | None:
    """The same view for one canonical entity, by its id (a page's link to a neighbour)."""
    rows = fetch_all(_BY_ID_SQL, {"id": entity_id})
    return entity_view(_match(rows[0]), settings=settings, limit=limit, graph=graph) if rows else None


def entity_view(
    entity: EntityMatch,
    *,
    settings: Settings,
    limit: int = 20,
    graph: GraphStore | None = None,
    other_matches: list[EntityMatch] | None = None,
) -> EntityView:
    """Documents, pages and neighbours of ``entity``: from Neo4j, or from PostgreSQL when it is down."""
    view = EntityView(entity, other_matches=other_matches or [])
    try:
        store = graph or GraphStore(settings)
        try:
            view.documents = [
                {**row, "pages": sorted(set(row["pages"]))}
                for row in store.query(_GRAPH_DOCUMENTS, key=entity.key, limit=limit)
            ]
            view.neighbours = store.query(_GRAPH_NEIGHBOURS, key=entity.key, limit=limit)
        finally:
            if graph is None:
                store.close()
    except (TransientError, OSError) as exc:
        view.source = f"postgresql (Neo4j unavailable: {exc})"
        view.documents = [
            {"document_uuid": uuid, "name": doc_name, "mentions": int(mentions), "pages": sorted(set(pages))}
            for uuid, doc_name, mentions, pages in fetch_all(_PG_DOCUMENTS, {"id": entity.entity_id, "limit": limit})
        ]
        view.neighbours = [
            {
                "key": entity_key(project_id=project, label=label, normalized_key=key),
                "name": display,
                "label": label,
                "weight": int(weight),
                "documents": int(documents),
            }
            for project, label, key, display, weight, documents in fetch_all(
                _PG_NEIGHBOURS, {"id": entity.entity_id, "limit": limit}
            )
        ]
    # Ids for links: entities by their graph key, documents by their uuid.
    ids = dict(fetch_all(_IDS_BY_KEY_SQL, {"keys": [n["key"] for n in view.neighbours]})) if view.neighbours else {}
    for neighbour in view.neighbours:
        neighbour["entity_id"] = ids.get(neighbour["key"])
    uuids = [d["document_uuid"] for d in view.documents]
    document_ids = dict(fetch_all(_DOCUMENT_IDS_SQL, {"uuids": uuids})) if uuids else {}
    for document in view.documents:
        document["document_id"] = document_ids.get(document["document_uuid"])
    return view
