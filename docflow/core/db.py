"""Database engine and sessions: one pooled engine per process, one session per unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlmodel import Session

from docflow.core.settings import Settings, get_settings


def make_engine(settings: Settings) -> Engine:
    return create_engine(
        settings.sqlalchemy_url,
        # A dead connection (PostgreSQL restarted) is noticed on checkout, not mid-task.
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=settings.db_connect_timeout_s * 2,
        # Every network call has a timeout: connecting, and each statement.
        connect_args={
            "connect_timeout": settings.db_connect_timeout_s,
            "options": f"-c statement_timeout={settings.db_statement_timeout_ms}",
        },
    )


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The process-wide engine. Celery's prefork children call :func:`reset_engine` after fork."""
    return make_engine(get_settings())


def reset_engine() -> None:
    """Drop the inherited pool so a forked child never shares sockets with its parent."""
    if get_engine.cache_info().currsize:
        get_engine().dispose(close=False)
    get_engine.cache_clear()


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def fetch_all(sql: str, params: dict[str, Any] | None = None, *, engine: Engine | None = None) -> list[tuple]:
    """Run one read-only SQL statement on the driver's own cursor and return its rows as tuples.

    For the set-based reads of reconcile and the monitor over up to a million rows: psycopg's
    cursor skips SQLAlchemy's per-row result processing, which costs more than the query there.
    The transaction is rolled back (nothing to commit) and the connection goes back to the pool.
    """
    with (engine or get_engine()).connect() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]  # psycopg's own cursor
        try:
            cursor.execute(sql, params or {})
            rows = cursor.fetchall()
        finally:
            cursor.close()
            connection.rollback()
    return rows


def insert_many(session: Session, statement: Any, rows: list[dict[str, Any]]) -> Any:
    """Run an INSERT for many rows as one Core ``executemany``; returns the result (for RETURNING).

    The statement shape is compiled once and cached, and psycopg sends the rows in pages
    (insertmanyvalues). A multi-row ``.values(rows)`` compiles anew for every row count and goes
    through the ORM's bulk path: measurable per document and per intake batch.
    """
    return session.connection().execute(statement, rows)
