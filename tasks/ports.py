"""The stage runner's ports: the document row and stage log, chaining, the breakers, the monitoring hash.

:mod:`tasks.runner` decides; these carry its decisions out. :func:`default_ports` wires PostgreSQL
(the data functions of :mod:`docflow.core.documents`), the broker and Redis; the unit tests wire an
in-memory stand-in with the same status machine.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis

from docflow.core import documents
from docflow.core.breaker import CLOSED, Breakers, BreakerState, Store
from docflow.core.broker import publish, redis_client
from docflow.core.db import session_scope
from docflow.core.settings import get_settings
from docflow.core.status import Stage, Status
from docflow.core.store_probes import probe_store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageContext:
    stage: Stage
    task_id: str
    # The document's row as this delivery claimed it (columns as attributes): the stage's work
    # reads the file name, object key and size from here instead of a second round trip.
    document: Any

    @property
    def document_id(self) -> int:
        return int(self.document.id)

    @property
    def document_uuid(self) -> str:
        return str(self.document.document_uuid)

    @property
    def project_id(self) -> str:
        return str(self.document.project_id)


class Records(Protocol):
    """The document row and its stage log within one unit of work (one transaction)."""

    def lock(self, *, document_id: int) -> Any | None: ...

    def record_delivery(
        self, *, document_id: int, stage: Stage, task_id: str, attempt: int, worker_hostname: str | None
    ) -> int: ...

    def transition(
        self,
        *,
        document_id: int,
        to: Status,
        task_id: str | None = None,
        error_message: str | None = None,
        extra: dict[str, Any] | None = None,
        expected_task_id: str | None = None,
    ) -> Any: ...

    def finish_run(self, *, task_id: str, attempt: int, outcome: str, error: str | None = None) -> None: ...

    def record_queued(self, *, document_id: int, stage: Stage, task_id: str) -> None: ...


class Publish(Protocol):
    def __call__(self, *, stage: Stage, document_id: int, task_id: str) -> None: ...


class StoreBreakers(Protocol):
    """The stores' circuit breakers as the runner uses them (:class:`docflow.core.breaker.Breakers`)."""

    def blocking(self, stores: Iterable[Store]) -> list[BreakerState]: ...

    def record_failure(self, store: Store, *, reason: str, unresponsive: bool = False) -> BreakerState: ...

    def record_success(self, stores: Iterable[Store]) -> None: ...


class NoBreakers:
    """Every breaker closed, failures not counted (a runner without shared state: tests, tools)."""

    def blocking(self, stores: Iterable[Store]) -> list[BreakerState]:
        return []

    def record_failure(self, store: Store, *, reason: str, unresponsive: bool = False) -> BreakerState:
        return BreakerState(store, CLOSED)

    def record_success(self, stores: Iterable[Store]) -> None:
        return None


@dataclass(frozen=True)
class StagePorts:
    unit_of_work: Callable[[], AbstractContextManager[Records]]
    publish: Publish
    monitor: Callable[[StageContext, dict[str, Any]], None]
    breakers: StoreBreakers = field(default_factory=NoBreakers)


class _PostgresRecords:
    """:class:`Records` on a SQLModel session (the data functions of :mod:`docflow.core.documents`)."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def lock(self, *, document_id: int) -> Any | None:
        return documents.lock_document(self.session, document_id=document_id)

    def record_delivery(
        self, *, document_id: int, stage: Stage, task_id: str, attempt: int, worker_hostname: str | None
    ) -> int:
        return documents.record_stage_delivery(
            self.session,
            document_id=document_id,
            stage=stage,
            task_id=task_id,
            attempt=attempt,
            worker_hostname=worker_hostname,
        )

    def transition(
        self,
        *,
        document_id: int,
        to: Status,
        task_id: str | None = None,
        error_message: str | None = None,
        extra: dict[str, Any] | None = None,
        expected_task_id: str | None = None,
    ) -> Any:
        return documents.transition(
            self.session,
            document_id=document_id,
            to=to,
            task_id=task_id,
            error_message=error_message,
            extra=extra,
            expected_task_id=expected_task_id,
        )

    def finish_run(self, *, task_id: str, attempt: int, outcome: str, error: str | None = None) -> None:
        documents.finish_stage_run(self.session, task_id=task_id, attempt=attempt, outcome=outcome, error=error)

    def record_queued(self, *, document_id: int, stage: Stage, task_id: str) -> None:
        documents.record_queued(self.session, document_id=document_id, stage=stage, task_id=task_id)


@contextmanager
def _postgres_unit_of_work() -> Iterator[Records]:
    with session_scope() as session:
        yield _PostgresRecords(session)


@functools.cache
def _monitor_client() -> redis.Redis:
    # One client (and connection pool) per worker process, not one per stage call.
    return redis_client(get_settings())


def _monitor_hash(ctx: StageContext, fields: dict[str, Any]) -> None:
    """Per-document monitoring hash in Redis (best effort: the row is the truth)."""
    try:
        key = f"docflow:monitor:{ctx.document_uuid}"
        # One round trip for both commands (no MULTI: the expiry is refreshed by the next write anyway).
        pipe = _monitor_client().pipeline(transaction=False)
        pipe.hset(
            key, mapping={"stage": ctx.stage.value, "task_id": ctx.task_id, **{k: str(v) for k, v in fields.items()}}
        )
        pipe.expire(key, 7 * 24 * 3600)
        pipe.execute()
    except Exception as exc:  # noqa: BLE001 - best effort by design: a dead Redis must not fail the stage
        log.debug("monitor hash not written: %s", exc)


def _publish(*, stage: Stage, document_id: int, task_id: str) -> None:
    publish(stage=stage, document_id=document_id, task_id=task_id)


@functools.cache
def _breakers() -> Breakers:
    # One per worker process: its cached reading of the breakers is shared by every stage it runs.
    settings = get_settings()
    return Breakers(_monitor_client(), settings, probe=functools.partial(probe_store, settings))


def default_ports() -> StagePorts:
    """PostgreSQL for the records, the broker for chaining, Redis for the breakers and the monitoring hash."""
    return StagePorts(
        unit_of_work=_postgres_unit_of_work, publish=_publish, monitor=_monitor_hash, breakers=_breakers()
    )
