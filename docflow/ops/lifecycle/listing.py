"""Listing documents for programs: filters and a cursor that stays right while documents arrive.

A page is ordered by id (registration order) and continues after the last id it returned, a
keyset cursor: documents registered while a client pages through are not skipped and none is
returned twice, as an offset would do. The cursor is opaque to the client (``d<id>``, base64) so
its form can change without breaking one.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from docflow.core.db import session_scope
from docflow.core.models import MAX_ID, SourceDocument
from docflow.core.status import Status

__all__ = ["CursorError", "DocumentFilters", "DocumentListing", "ListedDocument", "list_documents"]

MAX_PAGE = 500


class CursorError(ValueError):
    """A cursor this server did not give out (or not in this form)."""


@dataclass(frozen=True)
class DocumentFilters:
    project_id: str | None = None
    status: str | None = None
    file_type: str | None = None
    language: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True)
class ListedDocument:
    id: int
    uuid: str
    name: str
    project_id: str
    status: str
    error: str | None
    file_type: str | None
    language: str | None
    page_count: int | None
    size_bytes: int
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True)
class DocumentListing:
    documents: list[ListedDocument]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"d{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The last id a cursor stands for; :class:`CursorError` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise CursorError("not a cursor this server gave out") from None
    if not raw.startswith("d") or not raw[1:].isdigit() or not 0 < int(raw[1:]) <= MAX_ID:
        raise CursorError("not a cursor this server gave out")
    return int(raw[1:])


def list_documents(*, filters: DocumentFilters, cursor: str | None = None, limit: int = 100) -> DocumentListing:
    """One page of the documents that match ``filters``, oldest first, at most ``limit`` of them.

    ``next_cursor`` is set while more may follow; pass it back for the next page. Raises
    :class:`CursorError` for a cursor not given out here and ``ValueError`` for a status docflow
    does not have.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    if filters.status is not None and filters.status not in {s.value for s in Status}:
        raise ValueError(f"no status {filters.status!r}; one of {', '.join(s.value for s in Status)}")
    query = select(SourceDocument).order_by(col(SourceDocument.id)).limit(limit + 1)
    if cursor is not None:
        query = query.where(col(SourceDocument.id) > decode_cursor(cursor))
    for column, value in (
        (SourceDocument.project_id, filters.project_id),
        (SourceDocument.celery_status, filters.status),
        (SourceDocument.file_type, filters.file_type),
        (SourceDocument.language, filters.language),
    ):
        if value is not None:
            query = query.where(col(column) == value)
    if filters.created_after is not None:
        query = query.where(col(SourceDocument.created_at) >= filters.created_after)
    if filters.created_before is not None:
        query = query.where(col(SourceDocument.created_at) < filters.created_before)
    with session_scope() as session:
        rows = list(session.exec(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return DocumentListing(
        documents=[_listed(row) for row in rows],
        next_cursor=encode_cursor(rows[-1].id or 0) if more and rows else None,
    )


def _listed(row: SourceDocument) -> ListedDocument:
    return ListedDocument(
        id=row.id or 0,
        uuid=str(row.document_uuid),
        name=row.original_file_name,
        project_id=row.project_id,
        status=row.celery_status,
        error=row.error_message,
        file_type=row.file_type,
        language=row.language,
        page_count=row.page_count,
        size_bytes=row.size_bytes,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
