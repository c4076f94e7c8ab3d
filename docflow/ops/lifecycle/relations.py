"""Typed relationships with their evidence: an entity's edges, a document's relationships.

Read from PostgreSQL, the truth (``entity_relationships`` of a kind other than ``CO_OCCURS`` and
their ``relationship_evidence``); Neo4j carries the same edges with their first evidence. Every
answer is typed data a route or a page can serve as it is (``to_dict()`` for JSON): each edge has
its kind and what the kind means, its two ends (ids for links), its direction seen from the entity
asked about, its properties (role, role type, current or former, date), the document it comes
from, the confidence and producer of its first evidence, and every place that states it — the
sentence, page, chunk and character span in the document's text (for a link to the page and a
highlight). ``CO_OCCURS`` is not here: the neighbourhood (:mod:`docflow.ops.lifecycle.explore`)
serves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from uuid import UUID

from docflow.core.db import fetch_all
from docflow.core.graph import entity_key
from docflow.core.relation_kinds import CO_OCCURS, KINDS, TYPED_KINDS

__all__ = [
    "DocumentRelationships",
    "EdgeEnd",
    "EntityRelationships",
    "EvidenceView",
    "TypedEdge",
    "document_relationships",
    "entity_relationships",
]

Direction = Literal["out", "in", "both"]  # seen from the entity asked about; "both": an undirected kind


@dataclass(frozen=True)
class EvidenceView:
    """One place stating the relationship: ``sentence`` is ``text[char_start:char_end]`` of the document text."""

    sentence: str
    page: int
    chunk_index: int
    char_start: int
    char_end: int
    producer: str  # the rule or pattern that read it ("header:to", "pattern:role-apposition", ...)
    confidence: float
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EdgeEnd:
    entity_id: int
    key: str  # the graph key (project|label|normalized)
    name: str
    label: str


@dataclass(frozen=True)
class TypedEdge:
    """One document's statement of one relationship between two entities."""

    relationship_id: int
    kind: str
    meaning: str  # what the kind means (docflow.core.relation_kinds)
    directed: bool
    source: EdgeEnd
    target: EdgeEnd
    document_id: int
    document_uuid: str
    document_name: str
    weight: int  # places in the document that state it
    confidence: float
    producer: str  # of the first evidence
    properties: dict[str, Any]  # role, role_type, former, date, detail (those present)
    evidence: list[EvidenceView]  # most confident first; the first is the one to show
    direction: Direction = "out"  # seen from the entity asked about (entity_relationships)
    focus_entity_id: int | None = None  # the entity asked about; None for a document's edges

    @property
    def other(self) -> EdgeEnd:
        """The far end seen from the entity asked about (the target of a document's edge)."""
        return self.source if self.focus_entity_id == self.target.entity_id else self.target

    @property
    def role(self) -> str | None:
        return self.properties.get("role")

    @property
    def role_type(self) -> str | None:
        """officer, director, employee, founder, member, counsel or chair (a ``ROLE_AT``'s kind of role)."""
        return self.properties.get("role_type")

    @property
    def date(self) -> str | None:
        return self.properties.get("date")

    @property
    def former(self) -> bool:
        return bool(self.properties.get("former"))

    @property
    def statement(self) -> str:
        """The edge in words, for a list: "Jane Roe — ROLE_AT (chief financial officer, former) → Acme"."""
        details = [str(self.properties[name]) for name in ("role", "detail") if self.properties.get(name)]
        if self.former:
            details.append("former")
        if self.date:
            details.append(str(self.date))
        arrow = "→" if self.directed else "—"
        suffix = f" ({', '.join(details)})" if details else ""
        return f"{self.source.name} — {self.kind}{suffix} {arrow} {self.target.name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "other": asdict(self.other),
            "statement": self.statement,
            "role": self.role,
            "role_type": self.role_type,
            "date": self.date,
            "former": self.former,
        }


@dataclass
class EntityRelationships:
    entity: EdgeEnd
    edges: list[TypedEdge]  # by kind (vocabulary order), then confidence, then document
    counts: dict[str, int]  # kind -> edges of the entity of that kind (all, not only those returned)

    def to_dict(self) -> dict[str, Any]:
        return {"entity": asdict(self.entity), "edges": [e.to_dict() for e in self.edges], "counts": self.counts}


@dataclass
class DocumentRelationships:
    document_id: int
    document_uuid: str
    document_name: str
    edges: list[TypedEdge]  # by kind (vocabulary order), then source and target name
    counts: dict[str, int] = field(default_factory=dict)  # kind -> edges; CO_OCCURS included, for scale

    def to_dict(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "document_uuid": self.document_uuid,
            "document_name": self.document_name,
            "edges": [e.to_dict() for e in self.edges],
            "counts": self.counts,
        }


_EDGE_COLUMNS = """
SELECT r.id, r.kind, r.weight, coalesce(r.confidence, 0), r.properties,
       s.id, s.project_id, s.label, s.normalized_key, s.display_name,
       t.id, t.project_id, t.label, t.normalized_key, t.display_name,
       d.id, d.document_uuid::text, d.original_file_name
FROM entity_relationships r
JOIN canonical_entities s ON s.id = r.source_entity_id
JOIN canonical_entities t ON t.id = r.target_entity_id
JOIN source_documents d ON d.id = r.document_id
"""
_ENTITY_EDGES_SQL = (
    _EDGE_COLUMNS
    + """
WHERE (r.source_entity_id = %(id)s OR r.target_entity_id = %(id)s)
  AND r.kind = ANY(%(kinds)s)
ORDER BY array_position(%(kinds)s, r.kind::text), r.confidence DESC NULLS LAST, r.weight DESC, d.id, r.id
LIMIT %(limit)s
"""
)
_ENTITY_COUNTS_SQL = """
SELECT r.kind, count(*) FROM entity_relationships r
WHERE (r.source_entity_id = %(id)s OR r.target_entity_id = %(id)s) AND r.kind <> %(co_occurs)s
GROUP BY r.kind
"""
_DOCUMENT_EDGES_SQL = (
    _EDGE_COLUMNS
    + """
WHERE r.document_id = %(id)s AND r.kind <> %(co_occurs)s
ORDER BY array_position(%(kinds)s, r.kind::text), s.display_name, t.display_name, r.id
"""
)
_DOCUMENT_COUNTS_SQL = "SELECT kind, count(*) FROM entity_relationships WHERE document_id = %(id)s GROUP BY kind"
_DOCUMENT_SQL = "SELECT id, document_uuid::text, original_file_name FROM source_documents WHERE id = %(id)s"
_DOCUMENT_BY_UUID_SQL = (
    "SELECT id, document_uuid::text, original_file_name FROM source_documents WHERE document_uuid = %(uuid)s"
)
_ENTITY_SQL = "SELECT id, project_id, label, normalized_key, display_name FROM canonical_entities WHERE id = %(id)s"
_EVIDENCE_SQL = """
SELECT relationship_id, sentence, page, chunk_index, char_start, char_end, producer, confidence, properties
FROM relationship_evidence WHERE relationship_id = ANY(%(ids)s)
ORDER BY relationship_id, confidence DESC, char_start, producer
"""


def entity_relationships(
    entity_id: int, *, kinds: Sequence[str] | None = None, limit: int = 200
) -> EntityRelationships | None:
    """The typed edges of one canonical entity, in every document, each with all its evidence.

    ``kinds`` narrows to some kinds of the vocabulary (``ValueError`` for an unknown one or
    ``CO_OCCURS``); ``limit`` caps the edges returned (``counts`` still counts them all). None
    when there is no such entity.
    """
    wanted = _kinds(kinds)
    rows = fetch_all(_ENTITY_SQL, {"id": entity_id})
    if not rows:
        return None
    entity = _end(*rows[0])
    edges = _edges(fetch_all(_ENTITY_EDGES_SQL, {"id": entity_id, "kinds": wanted, "limit": limit}), focus=entity_id)
    counts = dict(fetch_all(_ENTITY_COUNTS_SQL, {"id": entity_id, "co_occurs": CO_OCCURS}))
    return EntityRelationships(entity=entity, edges=edges, counts=_in_vocabulary_order(counts))


def document_relationships(document: int | UUID) -> DocumentRelationships | None:
    """The typed relationships one document (by id or uuid) states, each with every place that
    states it; None: no such document."""
    if isinstance(document, UUID):
        rows = fetch_all(_DOCUMENT_BY_UUID_SQL, {"uuid": str(document)})
    else:
        rows = fetch_all(_DOCUMENT_SQL, {"id": document})
    if not rows:
        return None
    document_id, uuid, name = rows[0]
    edges = _edges(
        fetch_all(_DOCUMENT_EDGES_SQL, {"id": document_id, "co_occurs": CO_OCCURS, "kinds": list(TYPED_KINDS)}),
        focus=None,
    )
    counts = dict(fetch_all(_DOCUMENT_COUNTS_SQL, {"id": document_id}))
    return DocumentRelationships(document_id, uuid, name, edges, _in_vocabulary_order(counts))


def _kinds(kinds: Sequence[str] | None) -> list[str]:
    if kinds is None:
        return list(TYPED_KINDS)
    unknown = [k for k in kinds if k not in TYPED_KINDS]
    if unknown:
        raise ValueError(f"not typed relationship kinds: {', '.join(unknown)} (known: {', '.join(TYPED_KINDS)})")
    return [k for k in TYPED_KINDS if k in set(kinds)]


def _in_vocabulary_order(counts: dict[str, int]) -> dict[str, int]:
    order = {kind: position for position, kind in enumerate(KINDS)}
    return {kind: int(counts[kind]) for kind in sorted(counts, key=lambda k: order.get(k, len(KINDS)))}


def _end(entity_id: int, project_id: str, label: str, normalized_key: str, name: str) -> EdgeEnd:
    return EdgeEnd(
        entity_id, entity_key(project_id=project_id, label=label, normalized_key=normalized_key), name, label
    )


def _edges(rows: list[tuple], *, focus: int | None) -> list[TypedEdge]:
    evidence: dict[int, list[EvidenceView]] = {row[0]: [] for row in rows}
    if evidence:
        for relationship_id, *fields in fetch_all(_EVIDENCE_SQL, {"ids": list(evidence)}):
            evidence[relationship_id].append(EvidenceView(*fields))
    edges = []
    for row in rows:
        relationship_id, kind, weight, confidence, properties = row[:5]
        source, target = _end(*row[5:10]), _end(*row[10:15])
        document_id, document_uuid, document_name = row[15:18]
        places = evidence[relationship_id]
        directed = KINDS[kind].directed if kind in KINDS else True
        direction: Direction = "both" if not directed else ("in" if focus == target.entity_id else "out")
        edges.append(
            TypedEdge(
                relationship_id=relationship_id,
                kind=kind,
                meaning=KINDS[kind].meaning if kind in KINDS else "",
                directed=directed,
                source=source,
                target=target,
                document_id=document_id,
                document_uuid=document_uuid,
                document_name=document_name,
                weight=weight,
                confidence=round(float(confidence), 3),
                producer=places[0].producer if places else "",
                properties=dict(properties or {}),
                evidence=places,
                direction=direction,
                focus_entity_id=focus,
            )
        )
    return edges
