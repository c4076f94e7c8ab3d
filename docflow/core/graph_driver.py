"""The Neo4j connection docflow writes the graph through: a driver with deadlines, one explicit
write transaction per call, and every failure classified.

* **Bounded.** Connecting (TCP and the Bolt handshake) gives up after ``neo4j_connect_timeout_s``;
  a read has the server's receive-timeout hint as its deadline (``neo4j_keep_alive_s`` x 3: a
  server at work sends keep-alives, so silence that long means it stopped answering); each write
  carries a server-side transaction timeout (``neo4j_transaction_timeout_s``).
* **Retried only where it helps.** A deadlock or another transient error the server reports is
  retried here with a short jittered backoff for up to ``neo4j_timeout_s``; a refused or dropped
  connection is tried again for a moment (a restart's blip, a stale pooled connection). A store
  that did not answer at all is not waited for twice: the call fails at once as unresponsive, and
  the store's circuit breaker (:mod:`docflow.core.breaker`) makes the next tasks wait without
  holding a worker. (The driver's own managed retries retried a frozen server for 60 s a call.)
* **Classified.** :class:`~docflow.core.errors.StoreUnavailable` when the store refused, failed or
  did not answer (the breaker counts those), :class:`~docflow.core.errors.TransientError` for a
  lost race (deadlock, a node deleted concurrently, our own transaction timeout),
  :class:`~docflow.core.errors.PermanentError` for a statement the server rejects.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import neo4j
from neo4j import GraphDatabase
from neo4j.exceptions import ClientError, DriverError, Neo4jError

from docflow.core.errors import PermanentError, StoreUnavailable, TransientError
from docflow.core.settings import Settings

T = TypeVar("T")
STORE = "neo4j"  # the name of this store's breaker (docflow.core.breaker.Store)
# How long a refused or dropped connection is tried again within one call: enough for a pooled
# connection a restart left stale; a longer outage is the breaker's, not a held worker's.
RECONNECT_S = 2.0


def make_driver(settings: Settings, *, connect_timeout_s: float | None = None) -> neo4j.Driver:
    connect = connect_timeout_s or settings.neo4j_connect_timeout_s
    return GraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        connection_timeout=connect,
        # A worker process has one thread, so it never waits for a pooled connection: this bounds
        # the handshake of a new one (the driver's deadline for it) and the liveness check.
        connection_acquisition_timeout=connect,
        # A pooled connection idle this long is checked first (a round trip bounded by the
        # acquisition timeout): one gone silent is replaced instead of hanging the next write.
        liveness_check_timeout=settings.neo4j_liveness_check_s,
        # UNWIND + MATCH on two constrained keys is an intended "cartesian product" of single
        # rows; informational notices about it would flood the worker logs.
        notifications_min_severity="WARNING",
    )


def _no_answer(exc: BaseException | None) -> bool:
    """A deadline passed without a reply: a read timeout, or a connection not established in time."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        said = str(exc).lower()
        if isinstance(exc, TimeoutError) or "timed out" in said or "deadline" in said:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def classify(what: str, exc: Exception) -> Exception:
    """What a Neo4j failure means for the stage (raise what this returns)."""
    if isinstance(exc, ClientError):
        code = exc.code or ""
        if "Security" in code:
            return StoreUnavailable(f"neo4j refused the credentials during {what}", store=STORE)
        if "TransactionTimedOut" in code or "Terminated" in code:
            # Our own server-side deadline (a slow or blocked write), not a bad request.
            return TransientError(f"neo4j ended {what} at its transaction timeout: {code}")
        if code == "Neo.ClientError.Statement.EntityNotFound":
            # A node this write had matched was deleted by a concurrent transaction that committed
            # first (another document's rewrite dropping an entity it alone mentioned). A re-run
            # sees the committed graph and merges the node anew.
            return TransientError(f"neo4j: a node read during {what} was deleted concurrently")
        return PermanentError(f"neo4j rejected {what}: {code}")
    if isinstance(exc, Neo4jError):
        code = exc.code or type(exc).__name__
        if "Unavailable" in code:
            return StoreUnavailable(f"neo4j unavailable during {what}: {code}", store=STORE)
        return TransientError(f"neo4j error during {what}: {code}")
    # DriverError (ServiceUnavailable, SessionExpired, ConnectionPoolError...) or a socket error.
    return StoreUnavailable(
        f"neo4j unavailable during {what}: {type(exc).__name__}", store=STORE, unresponsive=_no_answer(exc)
    )


class Neo4jConnection:
    """A driver (and its connection pool) with the deadlines, retries and classification above."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.database = settings.neo4j_database
        self.driver = make_driver(settings)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.driver.close()

    def write(self, what: str, work: Callable[..., T], **params: Any) -> T:
        """``work(tx, **params)`` in one write transaction, committed; retried as the module says."""
        started = time.monotonic()
        delay = 0.1
        while True:
            try:
                # A server-side deadline on the write: a client cut off mid-transaction (half-open
                # path) leaves its transaction open on the server, holding the locks of the entities
                # it merged; Neo4j ends it at this timeout and releases them.
                with (
                    self.driver.session(database=self.database) as session,
                    session.begin_transaction(timeout=self.settings.neo4j_transaction_timeout_s) as tx,
                ):
                    result = work(tx, **params)
                    tx.commit()
                    return result
            except (Neo4jError, DriverError, OSError) as exc:
                error = classify(what, exc)
                budget = RECONNECT_S if isinstance(error, StoreUnavailable) else self.settings.neo4j_timeout_s
                retryable = isinstance(exc, (DriverError, OSError)) or exc.is_retryable()
                unresponsive = isinstance(error, StoreUnavailable) and error.unresponsive
                if not retryable or unresponsive or time.monotonic() + delay - started > budget:
                    raise error from None
            time.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, 2.0)

    def query(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        """A read query (for checks and tests); parameters always go as parameters."""
        try:
            records, _, _ = self.driver.execute_query(
                cypher, parameters_=params, database_=self.database, routing_=neo4j.RoutingControl.READ
            )
        except (DriverError, OSError) as exc:
            raise classify("a read", exc) from None
        return [record.data() for record in records]

    def ping(self) -> None:
        self.driver.verify_connectivity()


def probe(settings: Settings, *, timeout_s: float) -> None:
    """Connect (handshake and authentication) within ``timeout_s`` on a connection of its own, or raise
    :class:`StoreUnavailable`: the breaker's half-open probe."""
    driver = make_driver(settings, connect_timeout_s=timeout_s)
    try:
        driver.verify_connectivity()
    except (Neo4jError, DriverError, OSError) as exc:
        raise classify("the probe", exc) from None
    finally:
        driver.close()
