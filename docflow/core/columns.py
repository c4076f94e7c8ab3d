"""Column helpers the SQLModel tables share: ids' range, timestamps, the document foreign key.

Its own module so that every table module (:mod:`docflow.core.models`,
:mod:`docflow.core.evidence_table`) builds on it without importing another.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, ForeignKey, Integer, Table, func
from sqlmodel import SQLModel

__all__ = ["MAX_ID", "document_fk", "table_of", "timestamp_column", "utcnow"]

# Every id docflow hands out is a PostgreSQL ``integer``: no row has an id outside 1..MAX_ID.
MAX_ID = 2**31 - 1


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a model, for the statements built once and run without the ORM."""
    table: Table = model.__table__  # type: ignore[attr-defined]  # set by SQLModel's metaclass; absent from its stubs
    return table


def utcnow() -> datetime:
    return datetime.now(UTC)


def timestamp_column(*, nullable: bool = True, default_now: bool = False, on_update: bool = False) -> Column:
    return Column(
        DateTime(timezone=True),
        nullable=nullable,
        server_default=func.now() if default_now else None,
        onupdate=func.now() if on_update else None,
    )


def document_fk() -> Column:
    return Column(Integer, ForeignKey("source_documents.id", ondelete="CASCADE"), nullable=False, index=True)
