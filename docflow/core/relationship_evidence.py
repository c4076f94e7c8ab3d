"""Data functions for the evidence of typed relationships: where a document states each one.

A typed relationship (``entity_relationships`` row of a kind other than ``CO_OCCURS``) has one
``relationship_evidence`` row per place that states it. They are written right after the
document's relationships, in the entity stage's transaction, and go with them: deleting a
relationship (a re-run replaces them all) or its document deletes its evidence (cascade).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from docflow.core.db import insert_many
from docflow.core.models import EntityRelationship, RelationshipEvidence, table_of
from docflow.core.relation_kinds import CO_OCCURS

__all__ = ["EVIDENCE_FIELDS", "best_evidence", "evidence_of", "save_evidence"]

_RELATIONSHIPS = table_of(EntityRelationship)
_EVIDENCE = table_of(RelationshipEvidence)
EVIDENCE_FIELDS = ("chunk_index", "page", "char_start", "char_end", "sentence", "producer", "confidence", "properties")

_INSERT_EVIDENCE = insert(_EVIDENCE).on_conflict_do_nothing(constraint="uq_relationship_evidence_place")
_TYPED_IDS = select(
    _RELATIONSHIPS.c.id, _RELATIONSHIPS.c.source_entity_id, _RELATIONSHIPS.c.target_entity_id, _RELATIONSHIPS.c.kind
).where(_RELATIONSHIPS.c.document_id == bindparam("document_id"), _RELATIONSHIPS.c.kind != CO_OCCURS)
# The evidence shown first for each relationship: the most confident place, then the earliest.
_BEST = (
    select(_EVIDENCE.c.relationship_id, *(_EVIDENCE.c[name] for name in EVIDENCE_FIELDS))
    .distinct(_EVIDENCE.c.relationship_id)
    .where(_EVIDENCE.c.document_id == bindparam("document_id"))
    .order_by(_EVIDENCE.c.relationship_id, _EVIDENCE.c.confidence.desc(), _EVIDENCE.c.char_start)
)
_OF = (
    select(_EVIDENCE.c.relationship_id, *(_EVIDENCE.c[name] for name in EVIDENCE_FIELDS))
    .where(_EVIDENCE.c.relationship_id.in_(bindparam("ids", expanding=True)))
    .order_by(_EVIDENCE.c.relationship_id, _EVIDENCE.c.confidence.desc(), _EVIDENCE.c.char_start)
)


def save_evidence(
    session: Session, *, document_id: int, relationships: Sequence[Any], entity_ids: dict[tuple[str, str], int]
) -> int:
    """Insert the evidence of the document's just-written typed relationships; the number of rows.

    ``relationships`` are the ones just inserted (those with ``evidence``: ``TypedRelation``),
    ``entity_ids`` maps ``(canonical key, label)`` to the canonical entity id they were stored under.
    """
    typed = [r for r in relationships if getattr(r, "evidence", None)]
    if not typed:
        return 0
    stored = {
        (source, target, kind): relationship_id
        for relationship_id, source, target, kind in session.connection().execute(
            _TYPED_IDS, {"document_id": document_id}
        )
    }
    rows = []
    for relationship in typed:
        relationship_id = stored[
            (
                entity_ids[(relationship.source_key[:512], relationship.source_label)],
                entity_ids[(relationship.target_key[:512], relationship.target_label)],
                relationship.kind,
            )
        ]
        rows += [
            dict(
                relationship_id=relationship_id,
                document_id=document_id,
                chunk_index=evidence.chunk_index,
                page=evidence.page,
                char_start=evidence.char_start,
                char_end=evidence.char_end,
                sentence=evidence.sentence,
                producer=evidence.producer[:64],
                confidence=evidence.confidence,
                properties=dict(evidence.properties),
            )
            for evidence in relationship.evidence
        ]
    insert_many(session, _INSERT_EVIDENCE, rows)
    return len(rows)


def best_evidence(session: Session, *, document_id: int) -> dict[int, dict[str, Any]]:
    """Relationship id -> its first evidence (fields of :data:`EVIDENCE_FIELDS`), for one document."""
    rows = session.connection().execute(_BEST, {"document_id": document_id})
    return {row[0]: dict(zip(EVIDENCE_FIELDS, row[1:], strict=True)) for row in rows}


def evidence_of(session: Session, *, relationship_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Relationship id -> all its evidence, most confident first."""
    ids = sorted(set(relationship_ids))
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        for row in session.connection().execute(_OF, {"ids": ids}):
            found[row[0]].append(dict(zip(EVIDENCE_FIELDS, row[1:], strict=True)))
    return found
