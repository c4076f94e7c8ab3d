"""Database engine and sessions: one pooled engine per process, one session per unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
import sqlalchemy.exc
from psycopg.abc import PQGen
from psycopg.conninfo import make_conninfo
from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

from docflow.core.errors import StoreUnavailable
from docflow.core.settings import Settings, get_settings

T = TypeVar("T")
STORE = "postgres"  # the name of this store's breaker (docflow.core.breaker.Store)


class NoAnswer(psycopg.errors.OperationalError):
    """PostgreSQL did not answer within the connection's deadline (the connection was dropped)."""


class _DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait for PostgreSQL's answer has a deadline.

    libpq has no read timeout, and ``statement_timeout`` is enforced by the server: when the server
    or the path to it stops answering without closing the connection (a half-open peer), a query,
    a commit or the pool's pre-ping waits forever (measured: a black-holed proxy hung a worker's
    query indefinitely; TCP keepalives cannot see it when a middlebox still acknowledges). Every
    blocking call of a psycopg connection goes through :meth:`wait`; here it gets a deadline, and a
    connection that missed one is closed (its protocol state is unknown), so SQLAlchemy discards it
    and the stage's transient-error retry reconnects.
    """

    read_timeout_s: float | None = None

    def wait(self, gen: PQGen[T], interval: float = 0.1, timeout: float | None = None) -> T:
        if timeout is not None or self.read_timeout_s is None:
            return super().wait(gen, interval, timeout)
        try:
            return super().wait(gen, interval, self.read_timeout_s)
        except psycopg.errors.OperationalError as exc:
            if type(exc).__name__ != "_WaitTimeout":  # psycopg's own (private) deadline error
                raise
            self.pgconn.finish()
            raise NoAnswer(f"PostgreSQL did not answer within {self.read_timeout_s:g}s; connection dropped") from None


# SQLSTATE classes of a database that is unavailable rather than of a statement that lost a race:
# connection exceptions, insufficient resources (disk full, too many connections), operator
# intervention (shutdown, a statement cancelled at its timeout). A driver error without a SQLSTATE
# (refused, reset, no answer) is one too.
_UNAVAILABLE_CLASSES = ("08", "53", "57")
_UNAVAILABLE_ERRORS = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, sqlalchemy.exc.TimeoutError)


def unavailability(exc: BaseException) -> StoreUnavailable | None:
    """The SQLAlchemy error ``exc`` as a failure of the store (None: not one), for its breaker."""
    invalidated = isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated
    if not invalidated and not isinstance(exc, _UNAVAILABLE_ERRORS):
        return None
    original = getattr(exc, "orig", None)
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate and sqlstate[:2] not in _UNAVAILABLE_CLASSES:
        return None  # a deadlock, a serialization failure, a lock not available: the statement's lot
    said = str(original or exc).splitlines()[0][:200] if str(original or exc) else type(exc).__name__
    # Our own read deadline, or libpq's connect timeout: nothing came back at all.
    unresponsive = isinstance(original, NoAnswer) or "timeout expired" in said
    return StoreUnavailable(f"PostgreSQL unavailable: {said}", store=STORE, unresponsive=unresponsive)


def read_timeout_s(settings: Settings) -> float:
    """The client-side deadline of one round trip: never below the server's own statement timeout
    (plus a margin), so a slow statement still gets PostgreSQL's clean cancellation first."""
    return max(settings.db_read_timeout_s, settings.db_statement_timeout_ms / 1000 + 5)


def make_engine(settings: Settings) -> Engine:
    options = f"-c statement_timeout={settings.db_statement_timeout_ms}"
    if settings.db_idle_in_transaction_timeout_s:
        # A session whose client vanished mid-transaction (half-open connection, killed host)
        # would hold its row locks until the server's TCP keepalive notices (hours by default),
        # blocking every re-delivery of that document; the server ends it after this instead.
        options += f" -c idle_in_transaction_session_timeout={settings.db_idle_in_transaction_timeout_s * 1000}"
    engine = create_engine(
        settings.sqlalchemy_url,
        # A dead connection (PostgreSQL restarted) is noticed on checkout, not mid-task.
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=settings.db_connect_timeout_s * 2,
        # Every network call has a timeout: connecting, and each statement.
        connect_args={
            "connect_timeout": settings.db_connect_timeout_s,
            "options": options,
            # A peer that is gone (host down, network partition) is noticed by TCP itself: idle
            # connections by keepalive probes, unacknowledged writes by the user timeout.
            "keepalives": 1,
            "keepalives_idle": settings.db_keepalive_s,
            "keepalives_interval": max(settings.db_keepalive_s // 3, 1),
            "keepalives_count": 3,
            "tcp_user_timeout": int(read_timeout_s(settings) * 1000),
            **settings.db_tls_options,
        },
    )
    deadline = read_timeout_s(settings)

    @event.listens_for(engine, "do_connect")
    def _connect_with_deadline(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        connection = _DeadlineConnection.connect(*cargs, **cparams)
        connection.read_timeout_s = deadline
        return connection

    return engine


def probe(settings: Settings, *, timeout_s: float) -> None:
    """Connect and run ``SELECT 1``, each within about ``timeout_s`` (libpq's connect timeout is
    whole seconds, at least 2); raises when PostgreSQL refuses or does not answer. A connection of
    its own, outside the pool: the breaker's half-open probe (:mod:`docflow.core.breaker`)."""
    url = settings.sqlalchemy_url
    conninfo = make_conninfo(
        host=url.host,
        port=url.port,
        dbname=url.database,
        user=url.username,
        password=url.password,
        connect_timeout=max(round(timeout_s), 2),
        **settings.db_tls_options,
    )
    connection = _DeadlineConnection.connect(conninfo)
    connection.read_timeout_s = timeout_s
    try:
        connection.execute("SELECT 1")
    finally:
        connection.close()


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
