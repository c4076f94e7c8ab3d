"""Set-based forms of :mod:`docflow.core.results` for a batch of documents: the stages' reads of
their inputs, and the writes every document of a batch shares, each one statement for the batch.

Same guarantees as the per-document functions (each document's previous result replaced whole,
upserts on natural keys); only the number of round trips changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, text
from sqlmodel import Session

from docflow.core.db import insert_many
from docflow.core.results import UPSERT_CHUNK, chunk_rows

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
