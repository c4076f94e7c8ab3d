"""Data functions for what the stages derive from a document: extraction, chunks, entities.

Every write is keyed by the document and replaces that document's previous result in one
transaction (upsert / delete-then-insert on natural keys), so a re-run or a redelivery leaves
exactly one copy. Canonical entities are shared across documents of a project and are upserted,
never deleted here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import Row, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from docflow.core.db import insert_many
from docflow.core.models import (
    CanonicalEntity,
    Chunk,
    DocumentExtraction,
    EntityMention,
    EntityRelationship,
    SourceDocument,
    table_of,
)

# Statements built once per process (bind parameters, Core, no unit of work): each stage task runs
# a few of them, and building a statement costs more CPU than executing it (see documents.py).
_EXTRACTIONS = table_of(DocumentExtraction)
_CHUNKS = table_of(Chunk)
_ENTITIES = table_of(CanonicalEntity)
_MENTIONS = table_of(EntityMention)
_RELATIONSHIPS = table_of(EntityRelationship)
_DOCUMENTS = table_of(SourceDocument)

_EXTRACTION_VALUES = ("elements_json", "char_count", "page_count", "ocr_pages", "text_pages")
_UPSERT_EXTRACTION = insert(_EXTRACTIONS)
_UPSERT_EXTRACTION = _UPSERT_EXTRACTION.on_conflict_do_update(
    index_elements=[_EXTRACTIONS.c.document_id],
    set_={name: _UPSERT_EXTRACTION.excluded[name] for name in _EXTRACTION_VALUES},
)
_SET_DOCUMENT_SHAPE = (
    update(_DOCUMENTS)
    .where(_DOCUMENTS.c.id == bindparam("document_id"))
    .values(page_count=bindparam("b_page_count"), file_type=bindparam("b_file_type"))
)


def save_extraction(
    session: Session,
    *,
    document_id: int,
    elements_json: str,
    char_count: int,
    page_count: int,
    ocr_pages: int,
    text_pages: int,
    file_type: str,
) -> None:
    connection = session.connection()
    connection.execute(
        _UPSERT_EXTRACTION,
        dict(
            document_id=document_id,
            elements_json=elements_json,
            char_count=char_count,
            page_count=page_count,
            ocr_pages=ocr_pages,
            text_pages=text_pages,
        ),
    )
    connection.execute(
        _SET_DOCUMENT_SHAPE, {"document_id": document_id, "b_page_count": page_count, "b_file_type": file_type}
    )


_LOAD_EXTRACTION = select(_EXTRACTIONS).where(_EXTRACTIONS.c.document_id == bindparam("document_id"))


def load_extraction(session: Session, *, document_id: int) -> Row | None:
    """The stored extraction row (columns as attributes), or None."""
    return session.connection().execute(_LOAD_EXTRACTION, {"document_id": document_id}).one_or_none()


_UPSERT_CHUNK = insert(_CHUNKS)
_UPSERT_CHUNK = _UPSERT_CHUNK.on_conflict_do_update(
    constraint="uq_chunks_document_index",
    set_={name: _UPSERT_CHUNK.excluded[name] for name in ("text", "page_start", "page_end", "char_start", "char_end")},
)
_DROP_CHUNKS_FROM = delete(_CHUNKS).where(
    _CHUNKS.c.document_id == bindparam("document_id"), _CHUNKS.c.chunk_index >= bindparam("first_dropped")
)


def replace_chunks(session: Session, *, document_id: int, chunks: Sequence) -> int:
    """Upsert chunks ``0..n-1`` and drop any higher index left by an earlier, longer run."""
    rows = [
        dict(
            document_id=document_id,
            chunk_index=c.index,
            text=c.text,
            page_start=c.page_start,
            page_end=c.page_end,
            char_start=c.char_start,
            char_end=c.char_end,
        )
        for c in chunks
    ]
    if rows:
        insert_many(session, _UPSERT_CHUNK, rows)
    session.connection().execute(_DROP_CHUNKS_FROM, {"document_id": document_id, "first_dropped": len(rows)})
    return len(rows)


_LOAD_CHUNKS = select(_CHUNKS).where(_CHUNKS.c.document_id == bindparam("document_id")).order_by(_CHUNKS.c.chunk_index)


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


_DELETE_MENTIONS = delete(_MENTIONS).where(_MENTIONS.c.document_id == bindparam("document_id"))
_DELETE_RELATIONSHIPS = delete(_RELATIONSHIPS).where(_RELATIONSHIPS.c.document_id == bindparam("document_id"))
_INSERT_MENTIONS = insert(_MENTIONS)
_INSERT_RELATIONSHIPS = insert(_RELATIONSHIPS)


def replace_entities(
    session: Session, *, document_id: int, project_id: str, mentions: Sequence, relationships: Sequence
) -> dict[str, int]:
    """Replace the document's mentions and relationships; returns counts."""
    ids = upsert_canonical_entities(
        session,
        project_id=project_id,
        entities=[(m.canonical_key, m.label, m.canonical_name) for m in mentions],
    )
    connection = session.connection()
    connection.execute(_DELETE_MENTIONS, {"document_id": document_id})
    connection.execute(_DELETE_RELATIONSHIPS, {"document_id": document_id})
    mention_rows = {
        (m.chunk_index, m.char_start, m.char_end, m.label): dict(
            document_id=document_id,
            chunk_index=m.chunk_index,
            canonical_entity_id=ids[(m.canonical_key[:512], m.label)],
            text=m.text[:512],
            label=m.label,
            char_start=m.char_start,
            char_end=m.char_end,
        )
        for m in mentions
    }
    if mention_rows:
        insert_many(session, _INSERT_MENTIONS, list(mention_rows.values()))
    relationship_rows = [
        dict(
            document_id=document_id,
            source_entity_id=ids[(r.source_key[:512], r.source_label)],
            target_entity_id=ids[(r.target_key[:512], r.target_label)],
            kind=r.kind,
            weight=r.weight,
        )
        for r in relationships
    ]
    if relationship_rows:
        insert_many(session, _INSERT_RELATIONSHIPS, relationship_rows)
    return {"mentions": len(mention_rows), "entities": len(set(ids.values())), "relationships": len(relationship_rows)}


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
    _RELATIONSHIPS.c.source_entity_id, _RELATIONSHIPS.c.target_entity_id, _RELATIONSHIPS.c.weight
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
        "relationships": relationship_rows,
    }
