"""Data functions for what the stages derive from a document: extraction, chunks, entities.

Every write is keyed by the document and replaces that document's previous result in one
transaction (upsert / delete-then-insert on natural keys), so a re-run or a redelivery leaves
exactly one copy. Canonical entities are shared across documents of a project and are upserted,
never deleted here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session

from docflow.db import insert_many
from docflow.models import CanonicalEntity, Chunk, DocumentExtraction, EntityMention, EntityRelationship, SourceDocument


def save_extraction(session: Session, *, document_id: int, elements_json: str, char_count: int, page_count: int,
                    ocr_pages: int, text_pages: int, file_type: str) -> None:
    values = dict(elements_json=elements_json, char_count=char_count, page_count=page_count,
                  ocr_pages=ocr_pages, text_pages=text_pages)
    session.execute(
        insert(DocumentExtraction).values(document_id=document_id, **values)
        .on_conflict_do_update(index_elements=[DocumentExtraction.document_id], set_=values)
    )
    document = session.get(SourceDocument, document_id)
    document.page_count = page_count
    document.file_type = file_type


def load_extraction(session: Session, *, document_id: int) -> DocumentExtraction | None:
    return session.execute(
        select(DocumentExtraction).where(DocumentExtraction.document_id == document_id)
    ).scalar_one_or_none()


def replace_chunks(session: Session, *, document_id: int, chunks: Sequence) -> int:
    """Upsert chunks ``0..n-1`` and drop any higher index left by an earlier, longer run."""
    rows = [
        dict(document_id=document_id, chunk_index=c.index, text=c.text, page_start=c.page_start,
             page_end=c.page_end, char_start=c.char_start, char_end=c.char_end)
        for c in chunks
    ]
    if rows:
        statement = insert(Chunk.__table__)
        insert_many(session, statement.on_conflict_do_update(
            constraint="uq_chunks_document_index",
            set_={name: statement.excluded[name] for name in
                  ("text", "page_start", "page_end", "char_start", "char_end")},
        ), rows)
    session.execute(delete(Chunk).where(Chunk.document_id == document_id, Chunk.chunk_index >= len(rows)))
    return len(rows)


def load_chunks(session: Session, *, document_id: int) -> list[Chunk]:
    return list(session.execute(
        select(Chunk).where(Chunk.document_id == document_id).order_by(Chunk.chunk_index)
    ).scalars())


def upsert_canonical_entities(session: Session, *, project_id: str, entities: Sequence[tuple[str, str, str]]) -> dict:
    """Upsert ``(normalized_key, label, display_name)`` rows; return ``{(key, label): id}``."""
    unique = {(key, label): name for key, label, name in entities}
    if not unique:
        return {}
    rows = [dict(project_id=project_id, normalized_key=key[:512], label=label, display_name=name[:512])
            for (key, label), name in sorted(unique.items())]
    insert_many(session, insert(CanonicalEntity.__table__).on_conflict_do_nothing(
        constraint="uq_canonical_entities_project_key_label"), rows)
    found = session.execute(
        select(CanonicalEntity.id, CanonicalEntity.normalized_key, CanonicalEntity.label).where(
            CanonicalEntity.project_id == project_id,
            CanonicalEntity.normalized_key.in_([row["normalized_key"] for row in rows]),
        )
    ).all()
    return {(key, label): entity_id for entity_id, key, label in found}


def replace_entities(session: Session, *, document_id: int, project_id: str, mentions: Sequence,
                     relationships: Sequence) -> dict[str, int]:
    """Replace the document's mentions and relationships; returns counts."""
    ids = upsert_canonical_entities(
        session, project_id=project_id,
        entities=[(m.canonical_key, m.label, m.canonical_name) for m in mentions],
    )
    session.execute(delete(EntityMention).where(EntityMention.document_id == document_id))
    session.execute(delete(EntityRelationship).where(EntityRelationship.document_id == document_id))
    mention_rows = {
        (m.chunk_index, m.char_start, m.char_end, m.label): dict(
            document_id=document_id, chunk_index=m.chunk_index,
            canonical_entity_id=ids[(m.canonical_key[:512], m.label)], text=m.text[:512], label=m.label,
            char_start=m.char_start, char_end=m.char_end)
        for m in mentions
    }
    if mention_rows:
        insert_many(session, insert(EntityMention.__table__), list(mention_rows.values()))
    relationship_rows = [
        dict(document_id=document_id, source_entity_id=ids[(r.source_key[:512], r.source_label)],
             target_entity_id=ids[(r.target_key[:512], r.target_label)], kind=r.kind, weight=r.weight)
        for r in relationships
    ]
    if relationship_rows:
        insert_many(session, insert(EntityRelationship.__table__), relationship_rows)
    return {"mentions": len(mention_rows), "entities": len(set(ids.values())), "relationships": len(relationship_rows)}


def load_graph_rows(session: Session, *, document_id: int) -> dict:
    """Everything the graph stage writes for one document, read from PostgreSQL."""
    chunks = load_chunks(session, document_id=document_id)
    mention_rows = session.execute(
        select(EntityMention.chunk_index, CanonicalEntity.id, CanonicalEntity.normalized_key,
               CanonicalEntity.label, CanonicalEntity.display_name, CanonicalEntity.project_id)
        .join(CanonicalEntity, CanonicalEntity.id == EntityMention.canonical_entity_id)
        .where(EntityMention.document_id == document_id)
    ).all()
    relationship_rows = session.execute(
        select(EntityRelationship.source_entity_id, EntityRelationship.target_entity_id,
               EntityRelationship.weight).where(EntityRelationship.document_id == document_id)
    ).all()
    entities = {row[1]: row for row in mention_rows}
    mention_counts = Counter((row[0], row[1]) for row in mention_rows)
    return {
        "chunks": chunks,
        "entities": entities,            # id -> (chunk_index, id, key, label, name, project)
        "mention_counts": mention_counts,  # (chunk_index, entity id) -> count
        "relationships": relationship_rows,
    }
