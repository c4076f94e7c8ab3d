"""The stage runner's ports: the document rows and stage log, chaining, the breakers, the monitoring
hash; and the contract between the runner and a stage's work.

:mod:`tasks.runner` decides; these carry its decisions out. :func:`default_ports` wires PostgreSQL
(the set-based data functions of :mod:`docflow.core.claims` and :mod:`docflow.core.documents`), the
broker and Redis; the unit tests wire an in-memory stand-in with the same status machine.

A stage's work takes the contexts of one or more claimed documents and returns a :class:`StageWork`:
what it computed for each document (or the error it hit there), and how to write the results of
those that are still owned, inside the stage's one completion transaction.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis

from docflow.core import claims as stage_claims
from docflow.core import documents
from docflow.core.breaker import CLOSED, Breakers, BreakerState, Store
from docflow.core.broker import publish_many, redis_client
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
    attempt: int = 0  # the delivery's retry number

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
    """The document rows and their stage log within one unit of work (one transaction)."""

    session: Any  # what a stage's work writes its results through (None in memory)

    def lock_many(self, *, document_ids: Sequence[int]) -> dict[int, Any]: ...

    def record_deliveries(
        self, *, stage: Stage, deliveries: Sequence[tuple[int, str, int, str | None]]
    ) -> dict[tuple[str, int], int]: ...

    def claim_many(self, *, stage: Stage, claims: Sequence[tuple[int, str]]) -> dict[int, Any]: ...

    def complete_many(self, *, stage: Stage, completions: Sequence[tuple[int, str, str]]) -> set[int]: ...

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

    def finish_runs(self, *, runs: Sequence[tuple[str, int]], outcome: str) -> None: ...

    def record_queued_many(self, *, stage: Stage, task_ids: dict[int, str]) -> None: ...

    def stamp_updated(self, *, document_ids: Sequence[int]) -> None: ...


class NotStarted(Exception):
    """A document of a batch whose work never started (the batch hit its time limit first)."""


@dataclass(frozen=True)
class StageOutput:
    """What a stage computed for one document: its summary (the task's result; the writes may add
    to it) and what is to be stored for it."""

    summary: dict[str, Any]
    result: Any = None


@dataclass
class StageWork:
    """A stage's work over one or more claimed documents: per document its output or the error it
    hit, and ``store(records, outputs)``, which writes the outputs of the documents still owned when
    the stage completes — together, in the stage's completion transaction."""

    outputs: dict[int, StageOutput | BaseException]
    store: Callable[[Records, list[StageOutput]], None]
    # Run once the completion transaction has committed (what may only go out after it: publishes).
    after_commit: Callable[[], None] | None = None

    def save(self, records: Records, document_ids: list[int]) -> None:
        owned = [self.outputs[i] for i in document_ids]
        self.store(records, [output for output in owned if isinstance(output, StageOutput)])


class Publish(Protocol):
    def __call__(self, *, stage: Stage, task_ids: dict[int, str]) -> None: ...


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
    # (context, fields) of each document: the monitoring hashes, written together
    monitor: Callable[[Sequence[tuple[StageContext, dict[str, Any]]]], None]
    breakers: StoreBreakers = field(default_factory=NoBreakers)


class _PostgresRecords:
    """:class:`Records` on a SQLModel session (the data functions of :mod:`docflow.core`)."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def lock_many(self, *, document_ids: Sequence[int]) -> dict[int, Any]:
        return stage_claims.lock_many(self.session, document_ids=document_ids)

    def record_deliveries(
        self, *, stage: Stage, deliveries: Sequence[tuple[int, str, int, str | None]]
    ) -> dict[tuple[str, int], int]:
        return stage_claims.record_deliveries(self.session, stage=stage, deliveries=deliveries)

    def claim_many(self, *, stage: Stage, claims: Sequence[tuple[int, str]]) -> dict[int, Any]:
        return stage_claims.claim_many(self.session, stage=stage, claims=claims)

    def complete_many(self, *, stage: Stage, completions: Sequence[tuple[int, str, str]]) -> set[int]:
        return stage_claims.complete_many(self.session, stage=stage, completions=completions)

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

    def finish_runs(self, *, runs: Sequence[tuple[str, int]], outcome: str) -> None:
        stage_claims.finish_runs(self.session, runs=runs, outcome=outcome)

    def record_queued_many(self, *, stage: Stage, task_ids: dict[int, str]) -> None:
        documents.record_queued_many(self.session, stage=stage, task_ids=task_ids)

    def stamp_updated(self, *, document_ids: Sequence[int]) -> None:
        stage_claims.stamp_updated(self.session, document_ids=document_ids)


@contextmanager
def _postgres_unit_of_work() -> Iterator[Records]:
    with session_scope() as session:
        yield _PostgresRecords(session)


@functools.cache
def _monitor_client() -> redis.Redis:
    # One client (and connection pool) per worker process, not one per stage call.
    return redis_client(get_settings())


MONITOR_TTL_S = 7 * 24 * 3600


def _monitor_hashes(entries: Sequence[tuple[StageContext, dict[str, Any]]]) -> None:
    """Per-document monitoring hashes in Redis, all in one round trip (best effort: the row is the truth)."""
    if not entries:
        return
    try:
        # No MULTI: the expiry is refreshed by the next write anyway.
        pipe = _monitor_client().pipeline(transaction=False)
        for ctx, fields in entries:
            key = f"docflow:monitor:{ctx.document_uuid}"
            pipe.hset(
                key,
                mapping={"stage": ctx.stage.value, "task_id": ctx.task_id, **{k: str(v) for k, v in fields.items()}},
            )
            pipe.expire(key, MONITOR_TTL_S)
        pipe.execute()
    except Exception as exc:  # noqa: BLE001 - best effort by design: a dead Redis must not fail the stage
        log.debug("monitor hashes not written: %s", exc)


def _publish(*, stage: Stage, task_ids: dict[int, str]) -> None:
    publish_many(stage=stage, task_ids=task_ids)


@functools.cache
def _breakers() -> Breakers:
    # One per worker process: its cached reading of the breakers is shared by every stage it runs.
    settings = get_settings()
    return Breakers(_monitor_client(), settings, probe=functools.partial(probe_store, settings))


def default_ports() -> StagePorts:
    """PostgreSQL for the records, the broker for chaining, Redis for the breakers and the monitoring hash."""
    return StagePorts(
        unit_of_work=_postgres_unit_of_work, publish=_publish, monitor=_monitor_hashes, breakers=_breakers()
    )
