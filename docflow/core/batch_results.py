"""Set-based forms of :mod:`docflow.core.results` for a batch of documents: the stages' reads of
their inputs, and the writes every document of a batch shares, each one statement for the batch.

Same guarantees as the per-document functions (each document's previous result replaced whole,
upserts on natural keys); only the number of round trips changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, text
from sqlmodel import Session

from docflow.core.db import insert_many
from docflow.core.relationship_evidence import save_evidence
from docflow.core.results import (
    INSERT_MENTIONS,
    INSERT_RELATIONSHIPS,
    UPSERT_CHUNK,
    UPSERT_EXTRACTION,
    chunk_rows,
    mention_rows,
    relationship_rows,
    upsert_canonical_entities,
)

_LOAD_EXTRACTIONS = text("SELECT * FROM document_extractions WHERE document_id = ANY(CAST(:ids AS integer[]))")


def load_extractions(session: Session, *, document_ids: Sequence[int]) -> dict[int, Row]:
    """Each document's stored extraction row (columns as attributes), by document id."""
    rows = session.connection().execute(_LOAD_EXTRACTIONS, {"ids": list(document_ids)})
    return {row.document_id: row for row in rows}


_CHUNK_COLUMNS = "document_id, chunk_index, text, page_start, page_end, char_start, char_end"
_LOAD_CHUNKS_MANY = text(
    f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE document_id = ANY(CAST(:ids AS integer[])) "
    "ORDER BY document_id, chunk_index"
)


def load_chunks_many(session: Session, *, document_ids: Sequence[int]) -> dict[int, list[Row]]:
    """Each document's chunk rows in order (columns as attributes), by document id."""
    chunks: dict[int, list[Row]] = defaultdict(list)
    for row in session.connection().execute(_LOAD_CHUNKS_MANY, {"ids": list(document_ids)}):
        chunks[row.document_id].append(row)
    return chunks


_DROP_CHUNKS_BEYOND = text(
    """
    DELETE FROM chunks c USING unnest(CAST(:ids AS integer[]), CAST(:counts AS integer[])) AS d(id, n)
    WHERE c.document_id = d.id AND c.chunk_index >= d.n
    """
)


def replace_chunks_many(session: Session, *, chunks: dict[int, tuple[Sequence[Any], str]]) -> None:
    """For each document id -> (its chunks, its text-search configuration): upsert chunks 0..n-1
    and drop any higher index an earlier, longer run left (two statements for the batch)."""
    rows = [
        row
        for document_id, (document_chunks, ts_config) in chunks.items()
        for row in chunk_rows(document_id=document_id, chunks=document_chunks, ts_config=ts_config)
    ]
    if rows:
        insert_many(session, UPSERT_CHUNK, rows)
    ids = list(chunks)
    session.connection().execute(_DROP_CHUNKS_BEYOND, {"ids": ids, "counts": [len(chunks[i][0]) for i in ids]})


_RECORD_VERSIONS = text(
    """
    UPDATE source_documents d
    SET pipeline_versions = d.pipeline_versions || jsonb_build_object(CAST(:stage AS text), v.version)
    FROM unnest(CAST(:ids AS integer[]), CAST(:versions AS text[])) AS v(id, version)
    WHERE d.id = v.id
    """
)


def record_versions(session: Session, *, stage: str, versions: dict[int, str]) -> None:
    """Note which pipeline version produced each document's result for ``stage`` (one statement)."""
    if versions:
        ids = list(versions)
        session.connection().execute(
            _RECORD_VERSIONS, {"stage": stage, "ids": ids, "versions": [versions[i] for i in ids]}
        )


_DELETE_MENTIONS_MANY = text("DELETE FROM entity_mentions WHERE document_id = ANY(CAST(:ids AS integer[]))")
_DELETE_RELATIONSHIPS_MANY = text("DELETE FROM entity_relationships WHERE document_id = ANY(CAST(:ids AS integer[]))")


@dataclass(frozen=True)
class EntityResult:
    """One document's entity-stage result to store."""

    document_id: int
    project_id: str
    mentions: Sequence[Any]
    relationships: Sequence[Any]


def replace_entities_many(session: Session, *, documents: Sequence[EntityResult]) -> dict[int, dict[str, int]]:
    """Replace each document's mentions and relationships whole: the canonical entities upserted per
    project, the batch's old rows deleted and the new ones inserted at once (rows shaped by
    :func:`results.mention_rows` and :func:`results.relationship_rows`), then the typed ones'
    evidence (:func:`~docflow.core.relationship_evidence.save_evidence`); counts per document."""
    ids: dict[str, dict] = {}
    for project in {d.project_id for d in documents}:
        ids[project] = upsert_canonical_entities(
            session,
            project_id=project,
            entities=[
                (m.canonical_key, m.label, m.canonical_name)
                for d in documents
                if d.project_id == project
                for m in d.mentions
            ],
        )
    connection = session.connection()
    document_ids = [d.document_id for d in documents]
    connection.execute(_DELETE_MENTIONS_MANY, {"ids": document_ids})
    connection.execute(_DELETE_RELATIONSHIPS_MANY, {"ids": document_ids})
    counts, mentioned, related = {}, [], []
    for d in documents:
        entity_ids = ids[d.project_id]
        its_mentions = mention_rows(document_id=d.document_id, mentions=d.mentions, entity_ids=entity_ids)
        its_relationships = relationship_rows(
            document_id=d.document_id, relationships=d.relationships, entity_ids=entity_ids
        )
        mentioned += its_mentions
        related += its_relationships
        keys = {(m.canonical_key[:512], m.label) for m in d.mentions}
        counts[d.document_id] = {
            "mentions": len(its_mentions),
            "entities": len({entity_ids[k] for k in keys}),
            "relationships": len(its_relationships),
        }
    if mentioned:
        insert_many(session, INSERT_MENTIONS, mentioned)
    if related:
        insert_many(session, INSERT_RELATIONSHIPS, related)
    # Typed relationships' evidence refers to their rows' ids: written after them, per document that has any.
    for d in documents:
        counts[d.document_id]["evidence"] = save_evidence(
            session, document_id=d.document_id, relationships=d.relationships, entity_ids=ids[d.project_id]
        )
    return counts


_SET_DOCUMENTS_READ = text(
    """
    UPDATE source_documents d
    SET language = v.language, page_count = v.page_count, file_type = v.file_type,
        pipeline_versions = d.pipeline_versions || jsonb_build_object('ocr', v.version)
    FROM unnest(CAST(:ids AS integer[]), CAST(:languages AS text[]), CAST(:pages AS integer[]),
                CAST(:types AS text[]), CAST(:versions AS text[])) AS v(id, language, page_count, file_type, version)
    WHERE d.id = v.id
    """
)


@dataclass(frozen=True)
class ReadResult:
    """One document's OCR-stage result to store: its extraction, its language, the version that read it."""

    document_id: int
    elements_json: str
    char_count: int
    page_count: int
    ocr_pages: int
    text_pages: int
    file_type: str
    language: str | None
    version: str


def save_reads(session: Session, *, documents: Sequence[ReadResult]) -> None:
    """Store each document's extraction (upserted) and, on its row, its language, page count, file
    type and OCR version: two statements for the batch."""
    insert_many(
        session,
        UPSERT_EXTRACTION,
        [
            dict(
                document_id=d.document_id,
                elements_json=d.elements_json,
                char_count=d.char_count,
                page_count=d.page_count,
                ocr_pages=d.ocr_pages,
                text_pages=d.text_pages,
            )
            for d in documents
        ],
    )
    session.connection().execute(
        _SET_DOCUMENTS_READ,
        {
            "ids": [d.document_id for d in documents],
            "languages": [d.language for d in documents],
            "pages": [d.page_count for d in documents],
            "types": [d.file_type for d in documents],
            "versions": [d.version for d in documents],
        },
    )
