"""Data functions for what the stages derive from a document: extraction, chunks, entities.

Every write is keyed by the document and replaces that document's previous result in one
transaction (upsert / delete-then-insert on natural keys), so a re-run or a redelivery leaves
exactly one copy. Canonical entities are shared across documents of a project and are upserted,
never deleted here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from sqlalchemy import Row, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from docflow.core.db import insert_many
from docflow.core.graph import DocumentGraph, entity_key
from docflow.core.models import (
    CanonicalEntity,
    Chunk,
    DocumentExtraction,
    EntityMention,
    EntityMerge,
    EntityRelationship,
    SourceDocument,
    VocabularyName,
    table_of,
)
from docflow.core.relationship_evidence import best_evidence
from docflow.core.vocabulary import VocabularyEntry

# Statements built once per process (bind parameters, Core, no unit of work): each stage task runs
# a few of them, and building a statement costs more CPU than executing it (see documents.py).
_EXTRACTIONS = table_of(DocumentExtraction)
_CHUNKS = table_of(Chunk)
_ENTITIES = table_of(CanonicalEntity)
_MENTIONS = table_of(EntityMention)
_RELATIONSHIPS = table_of(EntityRelationship)
_DOCUMENTS = table_of(SourceDocument)
_VOCABULARY = table_of(VocabularyName)
_MERGES = table_of(EntityMerge)

_EXTRACTION_VALUES = ("elements_json", "char_count", "page_count", "ocr_pages", "text_pages")
UPSERT_EXTRACTION = insert(_EXTRACTIONS)
UPSERT_EXTRACTION = UPSERT_EXTRACTION.on_conflict_do_update(
    index_elements=[_EXTRACTIONS.c.document_id],
    set_={name: UPSERT_EXTRACTION.excluded[name] for name in _EXTRACTION_VALUES},
)
_LOAD_EXTRACTION = select(_EXTRACTIONS).where(_EXTRACTIONS.c.document_id == bindparam("document_id"))


def load_extraction(session: Session, *, document_id: int) -> Row | None:
    """The stored extraction row (columns as attributes), or None."""
    return session.connection().execute(_LOAD_EXTRACTION, {"document_id": document_id}).one_or_none()


UPSERT_CHUNK = insert(_CHUNKS)
UPSERT_CHUNK = UPSERT_CHUNK.on_conflict_do_update(
    constraint="uq_chunks_document_index",
    set_={
        name: UPSERT_CHUNK.excluded[name]
        for name in ("text", "page_start", "page_end", "char_start", "char_end", "ts_config")
    },
)
_DROP_CHUNKS_FROM = delete(_CHUNKS).where(
    _CHUNKS.c.document_id == bindparam("document_id"), _CHUNKS.c.chunk_index >= bindparam("first_dropped")
)


def chunk_rows(*, document_id: int, chunks: Sequence, ts_config: str) -> list[dict]:
    """The rows of a document's chunks as ``chunks`` stores them."""
    return [
        dict(
            document_id=document_id,
            ts_config=ts_config,
            chunk_index=c.index,
            text=c.text,
            page_start=c.page_start,
            page_end=c.page_end,
            char_start=c.char_start,
            char_end=c.char_end,
        )
        for c in chunks
    ]


def replace_chunks(session: Session, *, document_id: int, chunks: Sequence, ts_config: str = "simple") -> int:
    """Upsert chunks ``0..n-1`` and drop any higher index left by an earlier, longer run.

    ``ts_config`` is the text-search configuration of the document's language: PostgreSQL derives
    each chunk's search vector from it (``chunks.tsv``, generated).
    """
    rows = chunk_rows(document_id=document_id, chunks=chunks, ts_config=ts_config)
    if rows:
        insert_many(session, UPSERT_CHUNK, rows)
    session.connection().execute(_DROP_CHUNKS_FROM, {"document_id": document_id, "first_dropped": len(rows)})
    return len(rows)


# The columns the stages read; the search vector stays in the database.
_LOAD_CHUNKS = (
    select(
        _CHUNKS.c.chunk_index,
        _CHUNKS.c.text,
        _CHUNKS.c.page_start,
        _CHUNKS.c.page_end,
        _CHUNKS.c.char_start,
        _CHUNKS.c.char_end,
    )
    .where(_CHUNKS.c.document_id == bindparam("document_id"))
    .order_by(_CHUNKS.c.chunk_index)
)


def load_chunks(session: Session, *, document_id: int) -> list[Row]:
    """The document's chunk rows in order (columns as attributes)."""
    return list(session.connection().execute(_LOAD_CHUNKS, {"document_id": document_id}))


_INSERT_ENTITIES = insert(_ENTITIES).on_conflict_do_nothing(constraint="uq_canonical_entities_project_key_label")
_ENTITY_IDS = select(_ENTITIES.c.id, _ENTITIES.c.normalized_key, _ENTITIES.c.label).where(
    _ENTITIES.c.project_id == bindparam("project_id"),
    _ENTITIES.c.normalized_key.in_(bindparam("keys", expanding=True)),
)


def upsert_canonical_entities(session: Session, *, project_id: str, entities: Sequence[tuple[str, str, str]]) -> dict:
    """Upsert ``(normalized_key, label, display_name)`` rows; return ``{(key, label): id}``."""
    unique = {(key, label): name for key, label, name in entities}
    if not unique:
        return {}
    rows = [
        dict(project_id=project_id, normalized_key=key[:512], label=label, display_name=name[:512])
        for (key, label), name in sorted(unique.items())
    ]
    insert_many(session, _INSERT_ENTITIES, rows)
    found = (
        session.connection()
        .execute(_ENTITY_IDS, {"project_id": project_id, "keys": [row["normalized_key"] for row in rows]})
        .all()
    )
    return {(key, label): entity_id for entity_id, key, label in found}


INSERT_MENTIONS = insert(_MENTIONS)
INSERT_RELATIONSHIPS = insert(_RELATIONSHIPS)


def project_vocabulary(session: Session, *, project_id: str) -> list[VocabularyEntry]:
    """The project's known names (``docflow vocabulary load``), in a stable order."""
    rows = session.execute(
        select(_VOCABULARY.c.name, _VOCABULARY.c.label, _VOCABULARY.c.aliases)
        .where(_VOCABULARY.c.project_id == project_id)
        .order_by(_VOCABULARY.c.id)
    ).all()
    return [VocabularyEntry(name, label, tuple(aliases or ())) for name, label, aliases in rows]


# --- reviewed merges (docflow.ops.entities) ------------------------------------------------------
_INTO = _ENTITIES.alias("into_entity")
_LIVE_MERGES = (
    select(_MERGES.c.from_key, _MERGES.c.from_label, _MERGES.c.into_key, _MERGES.c.into_label, _INTO.c.display_name)
    .outerjoin(
        _INTO,
        (_INTO.c.project_id == _MERGES.c.project_id)
        & (_INTO.c.normalized_key == _MERGES.c.into_key)
        & (_INTO.c.label == _MERGES.c.into_label),
    )
    .where(_MERGES.c.project_id == bindparam("project_id"), _MERGES.c.split_at.is_(None))
)


def project_merges(session: Session, *, project_id: str) -> dict[tuple[str, str], tuple[str, str, str]]:
    """The project's live merges: ``(from_key, from_label) -> (into_key, into_label, into display name)``.

    Read by the entity stage in the transaction that saves the document's entities' inputs, and
    applied to its mentions (:func:`tasks.steps.entities.apply_merges`).
    """
    rows = session.connection().execute(_LIVE_MERGES, {"project_id": project_id})
    return {(fk, fl): (ik, il, name or ik) for fk, fl, ik, il, name in rows}


_LABEL_PRIOR = (
    select(_ENTITIES.c.normalized_key, _ENTITIES.c.label, func.count())
    .join(_MENTIONS, _MENTIONS.c.canonical_entity_id == _ENTITIES.c.id)
    .where(
        _ENTITIES.c.project_id == bindparam("project_id"),
        _ENTITIES.c.normalized_key.in_(bindparam("keys", expanding=True)),
        _MENTIONS.c.document_id != bindparam("document_id"),
    )
    .group_by(_ENTITIES.c.normalized_key, _ENTITIES.c.label)
)


def label_prior(session: Session, *, project_id: str, keys: set[str], document_id: int) -> dict[str, Counter[str]]:
    """Canonical key -> label counts of the project's stored mentions of those keys.

    The document's own earlier mentions are left out: a reprocess must not vote for its old result.
    """
    prior: dict[str, Counter[str]] = {}
    if not keys:
        return prior
    rows = session.execute(
        _LABEL_PRIOR, {"project_id": project_id, "keys": sorted(k[:512] for k in keys), "document_id": document_id}
    )
    for key, label, count in rows:
        prior.setdefault(key, Counter())[label] = int(count)
    return prior


def mention_rows(*, document_id: int, mentions: Sequence, entity_ids: dict) -> list[dict]:
    """A document's ``entity_mentions`` rows, one per (chunk, span, label); ``entity_ids`` maps
    (canonical key, label) to the canonical entity's id (:func:`upsert_canonical_entities`)."""
    rows = {
        (m.chunk_index, m.char_start, m.char_end, m.label): dict(
            document_id=document_id,
            chunk_index=m.chunk_index,
            canonical_entity_id=entity_ids[(m.canonical_key[:512], m.label)],
            text=m.text[:512],
            label=m.label,
            char_start=m.char_start,
            char_end=m.char_end,
        )
        for m in mentions
    }
    return list(rows.values())


def relationship_rows(*, document_id: int, relationships: Sequence, entity_ids: dict) -> list[dict]:
    """A document's ``entity_relationships`` rows."""
    return [
        dict(
            document_id=document_id,
            source_entity_id=entity_ids[(r.source_key[:512], r.source_label)],
            target_entity_id=entity_ids[(r.target_key[:512], r.target_label)],
            kind=r.kind,
            weight=r.weight,
            # Typed relationships (tasks.steps.relations) add these; co-occurrence has neither.
            confidence=getattr(r, "confidence", None),
            properties=dict(getattr(r, "properties", None) or {}),
        )
        for r in relationships
    ]


_MENTION_ROWS = (
    select(
        _MENTIONS.c.chunk_index,
        _ENTITIES.c.id,
        _ENTITIES.c.normalized_key,
        _ENTITIES.c.label,
        _ENTITIES.c.display_name,
        _ENTITIES.c.project_id,
    )
    .join(_ENTITIES, _ENTITIES.c.id == _MENTIONS.c.canonical_entity_id)
    .where(_MENTIONS.c.document_id == bindparam("document_id"))
)
_RELATIONSHIP_ROWS = select(
    _RELATIONSHIPS.c.source_entity_id,
    _RELATIONSHIPS.c.target_entity_id,
    _RELATIONSHIPS.c.weight,
    _RELATIONSHIPS.c.id,
    _RELATIONSHIPS.c.kind,
    _RELATIONSHIPS.c.confidence,
    _RELATIONSHIPS.c.properties,
).where(_RELATIONSHIPS.c.document_id == bindparam("document_id"))


def load_graph_rows(session: Session, *, document_id: int) -> dict:
    """Everything the graph stage writes for one document, read from PostgreSQL."""
    chunks = load_chunks(session, document_id=document_id)
    connection = session.connection()
    mention_rows = connection.execute(_MENTION_ROWS, {"document_id": document_id}).all()
    relationship_rows = connection.execute(_RELATIONSHIP_ROWS, {"document_id": document_id}).all()
    entities = {row[1]: row for row in mention_rows}
    mention_counts = Counter((row[0], row[1]) for row in mention_rows)
    return {
        "chunks": chunks,
        "entities": entities,  # id -> (chunk_index, id, key, label, name, project)
        "mention_counts": mention_counts,  # (chunk_index, entity id) -> count
        "relationships": relationship_rows,  # (source id, target id, weight, id, kind, confidence, properties)
        "evidence": best_evidence(session, document_id=document_id),  # relationship id -> first evidence
    }


def load_document_graph(
    session: Session, *, document_id: int, document_uuid: str, project_id: str, name: str, file_type: str | None
) -> DocumentGraph:
    """The document's subgraph as the graph stage writes it (and ``docflow export`` carries it)."""
    rows = load_graph_rows(session, document_id=document_id)

    def key_of(entity_id: int) -> str:
        _chunk, _id, normalized, label, _name, project = rows["entities"][entity_id]
        return entity_key(project_id=project, label=label, normalized_key=normalized)

    return DocumentGraph(
        document_uuid=document_uuid,
        project_id=project_id,
        name=name,
        file_type=file_type,
        chunks=[
            {"index": c.chunk_index, "text": c.text, "page_start": c.page_start, "page_end": c.page_end}
            for c in rows["chunks"]
        ],
        entities=[
            {"key": key_of(entity_id), "name": row[4], "label": row[3]}
            for entity_id, row in sorted(rows["entities"].items())
        ],
        mentions=[
            {"chunk_index": chunk_index, "entity_key": key_of(entity_id), "count": count}
            for (chunk_index, entity_id), count in sorted(rows["mention_counts"].items())
        ],
        relationships=[_relationship(row, key_of, rows["evidence"]) for row in rows["relationships"]],
    )


def _relationship(row: Row, key_of: Callable[[int], str], evidence: dict[int, dict]) -> dict:
    source, target, weight, relationship_id, kind, confidence, properties = row
    relationship = {"source_key": key_of(source), "target_key": key_of(target), "weight": weight, "kind": kind}
    if relationship_id in evidence:
        relationship.update(confidence=confidence, properties=properties or {}, evidence=evidence[relationship_id])
    return relationship
