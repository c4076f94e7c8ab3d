"""The bookkeeping every stage task shares: status at start, work, status at the end, chain.

A stage task calls :func:`run_stage` with its document id and the stage's work function. This
module guarantees, for every stage:

* **Idempotent delivery.** A message for a document that is already past this stage (late), not
  yet at it (early), or whose row names a different responsible task (stale), is acknowledged
  without effect.
* **Poison guard.** Deliveries of one (task id, retry) are counted in ``stage_runs``; a message
  that was delivered ``max_deliveries`` times without finishing (its worker died each time) ends
  the document in the stage's error status instead of killing workers forever.
* **Classified failures.** Permanent errors (bad input) end in ``error_*`` at once with the reason;
  transient errors keep the document in ``*_processing`` and retry with jittered exponential
  backoff (``Settings.retry_countdown``: 60·2ⁿ s ± 25 % by default, at most ``retry_max_retries``),
  then end in ``error_*``.
* **Superseded deliveries change nothing.** Completing, failing or retrying is a compare-and-set on
  the row's task id too, and each stage writes its result while holding the row for its task
  (``documents.hold_for_task``): a delivery overtaken by a delete, a reprocess or a re-drive drops
  its work instead of writing over the new owner's.
* **Commit-then-publish chaining.** The next stage's task id is committed with ``*_complete``
  before the message is sent; reconcile re-drives the document if the send is lost.
* **A stalled store holds no worker.** Before claiming, the breakers of the stores the stage needs
  (:data:`~docflow.core.breaker.STAGE_STORES`) are consulted; while one is open the task is deferred
  (:mod:`tasks.deferral`: re-sent unchanged with a countdown, no retry or delivery used up). A store
  failure is counted on its breaker; when that opens the breaker, the delivery defers instead of
  retrying.

The runner reaches PostgreSQL, the broker, the breakers and the monitoring hash only through :class:`~tasks.ports.StagePorts`,
so its decisions are unit-tested against an in-memory bookkeeping (``tests/unit/test_runner.py``);
the real ports are :func:`default_ports`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis.exceptions
import sqlalchemy.exc
from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from docflow.core.breaker import STAGE_STORES, BreakerState, Store
from docflow.core.broker import new_task_id
from docflow.core.errors import IllegalTransition, PermanentError, Superseded, TransientError
from docflow.core.settings import get_settings
from docflow.core.status import COMPLETE, ENTRY, ERROR, PROCESSING, Stage, Status, position
from tasks import deferral
from tasks.ports import StageContext, StagePorts, default_ports

log = logging.getLogger(__name__)

StageResult = dict[str, Any]


# -- classification, once, for every stage --------------------------------------------------------------

_TRANSIENT = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)


def classify(exc: BaseException) -> type[Exception]:
    """Transient (retry) or permanent (fail now): decided once, here, for every stage."""
    if isinstance(exc, (PermanentError, SoftTimeLimitExceeded)):
        return PermanentError
    if isinstance(exc, TransientError):
        return TransientError
    if isinstance(exc, _TRANSIENT):
        return TransientError
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return TransientError
    # Anything else is a bug or input we did not foresee: fail the document with the reason
    # rather than retry it forever or crash the worker.
    return PermanentError


def describe(exc: BaseException, stage: Stage) -> str:
    if isinstance(exc, SoftTimeLimitExceeded):
        soft, _ = get_settings().time_limits(stage.value)
        return f"{stage.value} stage exceeded its time limit of {soft}s"
    if isinstance(exc, (PermanentError, TransientError)):
        return str(exc)
    text = str(exc).splitlines()[0][:500] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# -- the stage's life: claim, work, complete or fail ------------------------------------------------------


def _begin(
    task: Task, stage: Stage, document_id: int, ports: StagePorts, deferred_deliveries: int
) -> StageContext | None:
    """Claim the document for this stage, or return None when this delivery must do nothing."""
    settings = get_settings()
    request = task.request
    task_id, attempt, hostname = request.id, request.retries or 0, request.hostname
    with ports.unit_of_work() as records:
        document = records.lock(document_id=document_id)
        if document is None:
            log.warning("%s: document %s does not exist; message dropped", task.name, document_id)
            return None
        status = Status(document.celery_status)
        processing = PROCESSING[stage]
        if status not in (ENTRY[stage], processing):
            behind = position(status) < position(ENTRY[stage])
            log.info(
                "%s: document %s is %s; %s delivery is a no-op",
                task.name,
                document_id,
                status,
                "early" if behind else "late",
            )
            return None
        if document.celery_task_id and document.celery_task_id != task_id:
            log.info(
                "%s: document %s belongs to task %s; stale message %s is a no-op",
                task.name,
                document_id,
                document.celery_task_id,
                task_id,
            )
            return None
        deliveries = records.record_delivery(
            document_id=document_id, stage=stage, task_id=task_id, attempt=attempt, worker_hostname=hostname
        )
        # Deliveries that ended deferred (tasks.deferral) finished as they should: not counted.
        if deliveries - deferred_deliveries > settings.max_deliveries:
            reason = (
                f"poison message: {task.name} was delivered {deliveries - deferred_deliveries - 1} times "
                f"without finishing (its worker died each time); giving up"
            )
            records.transition(document_id=document_id, to=ERROR[stage], error_message=reason)
            records.finish_run(task_id=task_id, attempt=attempt, outcome="failed", error=reason)
            log.error("%s: document %s: %s", task.name, document_id, reason)
            return None
        attempts_column = f"{stage.value}_attempts"
        claimed = records.transition(
            document_id=document_id,
            to=processing,
            task_id=task_id,
            extra={attempts_column: getattr(document, attempts_column) + 1},
        )
    ctx = StageContext(stage, task_id, claimed)
    ports.monitor(
        ctx,
        {
            "worker": hostname or "",
            "status": processing.value,
            "started_at": datetime.now(UTC).isoformat(),
            "attempt": attempt,
        },
    )
    return ctx


def _complete(ctx: StageContext, attempt: int, ports: StagePorts) -> None:
    next_stage = ctx.stage.next
    next_task_id = new_task_id() if next_stage else None
    with ports.unit_of_work() as records:
        records.transition(
            document_id=ctx.document_id,
            to=COMPLETE[ctx.stage],
            task_id=next_task_id or ctx.task_id,
            expected_task_id=ctx.task_id,
        )
        records.finish_run(task_id=ctx.task_id, attempt=attempt, outcome="succeeded")
        if next_stage and next_task_id:
            records.record_queued(document_id=ctx.document_id, stage=next_stage, task_id=next_task_id)
    ports.monitor(ctx, {"status": COMPLETE[ctx.stage].value, "finished_at": datetime.now(UTC).isoformat()})
    if next_stage and next_task_id:
        try:
            ports.publish(stage=next_stage, document_id=ctx.document_id, task_id=next_task_id)
        except TransientError as exc:
            # The row already names the next task; reconcile finds it LOST and re-drives it.
            log.error("document %s: %s done but %s not published: %s", ctx.document_id, ctx.stage, next_stage, exc)


def _fail(ctx: StageContext, attempt: int, reason: str, ports: StagePorts) -> None:
    with ports.unit_of_work() as records:
        records.transition(
            document_id=ctx.document_id, to=ERROR[ctx.stage], error_message=reason, expected_task_id=ctx.task_id
        )
        records.finish_run(task_id=ctx.task_id, attempt=attempt, outcome="failed", error=reason)
    ports.monitor(ctx, {"status": ERROR[ctx.stage].value, "error": reason})
    log.warning("document %s failed in %s: %s", ctx.document_id, ctx.stage, reason)


def _note_retry(ctx: StageContext, attempt: int, message: str, ports: StagePorts) -> None:
    try:
        with ports.unit_of_work() as records:
            records.transition(
                document_id=ctx.document_id,
                to=PROCESSING[ctx.stage],
                error_message=message,
                expected_task_id=ctx.task_id,
            )
            records.finish_run(task_id=ctx.task_id, attempt=attempt, outcome="retrying", error=message)
    except Exception as exc:  # noqa: BLE001 - the database may be the thing that is down
        log.warning("document %s: retry not recorded (%s)", ctx.document_id, exc)


def _retry(task: Task, exc: BaseException, attempt: int, countdown: float | None = None) -> BaseException:
    """The Celery retry of this delivery after the jittered backoff (raise what it returns).

    The retry is a new attempt with a delivery count of its own: ``deferred_deliveries`` restarts."""
    settings = get_settings()
    return task.retry(
        args=list(task.request.args or ()),
        kwargs={**(task.request.kwargs or {}), "deferred_deliveries": 0},
        exc=exc,
        countdown=settings.retry_countdown(attempt) if countdown is None else countdown,
        max_retries=settings.retry_max_retries,
    )


def _opened_by(exc: BaseException, ports: StagePorts) -> list[BreakerState]:
    """Count ``exc`` on its store's breaker when it is a store failure; the breaker when it is open now."""
    failure = deferral.store_failure(exc)
    if failure is None:
        return []
    state = ports.breakers.record_failure(Store(failure.store), reason=str(failure), unresponsive=failure.unresponsive)
    return [state] if state.is_open else []


def _defer(task: Task, blocked: list[BreakerState], deferred_deliveries: int) -> BaseException:
    wait = deferral.countdown(blocked, settings=get_settings())
    return deferral.defer(task, blocked, deferred_deliveries=deferred_deliveries, wait=wait)


def _note_deferral(ctx: StageContext, attempt: int, blocked: list[BreakerState], ports: StagePorts) -> None:
    """Say on the claimed row and its stage run why it waits (best effort: the store may be PostgreSQL)."""
    message = "deferred: breaker " + "; ".join(state.describe() for state in blocked)
    try:
        with ports.unit_of_work() as records:
            records.transition(
                document_id=ctx.document_id,
                to=PROCESSING[ctx.stage],
                error_message=message,
                expected_task_id=ctx.task_id,
            )
            records.finish_run(task_id=ctx.task_id, attempt=attempt, outcome="deferred", error=message)
    except Exception as exc:  # noqa: BLE001 - the database may be the store that is down
        log.info("document %s: deferral not recorded (%s)", ctx.document_id, exc)


def run_stage(
    task: Task,
    *,
    stage: Stage,
    document_id: int,
    work: Callable[[StageContext], StageResult | None],
    ports: StagePorts | None = None,
    deferred_deliveries: int = 0,
) -> StageResult:
    """Run one stage for one document with the guarantees in this module's docstring."""
    settings = get_settings()
    ports = ports or default_ports()
    attempt = task.request.retries or 0
    skipped: StageResult = {"document_id": document_id, "stage": stage.value, "outcome": "skipped"}
    stores = STAGE_STORES[stage]
    blocked = ports.breakers.blocking(stores)
    if blocked:
        raise _defer(task, blocked, deferred_deliveries)
    try:
        ctx = _begin(task, stage, document_id, ports, deferred_deliveries)
    except IllegalTransition as exc:
        log.info("%s: %s; no-op", task.name, exc)
        return skipped
    except Exception as exc:
        if opened := _opened_by(exc, ports):
            raise _defer(task, opened, deferred_deliveries) from None  # the claim rolled back
        if classify(exc) is TransientError and attempt < settings.retry_max_retries:
            raise _retry(task, exc, attempt) from None
        raise
    if ctx is None:
        return skipped

    began = time.monotonic()
    try:
        summary = work(ctx) or {}
    except Superseded as exc:
        # Deleted, reprocessed or re-driven while this delivery worked: the new owner's run stands.
        log.info("%s: document %s: %s; this delivery's work is dropped", task.name, document_id, exc)
        return skipped
    except Exception as exc:  # noqa: BLE001 - classified right here, once
        reason = describe(exc, stage)
        if classify(exc) is TransientError:
            if opened := _opened_by(exc, ports):
                _note_deferral(ctx, attempt, opened, ports)
                raise _defer(task, opened, deferred_deliveries + 1) from None
            if attempt < settings.retry_max_retries:
                countdown = settings.retry_countdown(attempt)
                _note_retry(
                    ctx,
                    attempt,
                    f"transient error, retry {attempt + 1}/{settings.retry_max_retries} in {countdown:.0f}s: {reason}",
                    ports,
                )
                raise _retry(task, exc, attempt, countdown) from None
            reason = f"gave up after {attempt} retries: {reason}"
        try:
            _fail(ctx, attempt, reason, ports)
        except IllegalTransition:
            log.info("document %s moved on before this delivery failed (%s); no-op", document_id, reason)
            return skipped
        return {**skipped, "outcome": "failed", "error": reason}

    ports.breakers.record_success(stores)
    try:
        _complete(ctx, attempt, ports)
    except IllegalTransition as exc:
        # A duplicate delivery of this task finished first: its result stands, ours is the same.
        log.info("%s: document %s completed by another delivery (%s); no-op", task.name, document_id, exc)
        return skipped
    except Exception as exc:
        # The work is done and idempotent; redoing it after the database is back is safe.
        if opened := _opened_by(exc, ports):
            raise _defer(task, opened, deferred_deliveries + 1) from None
        if classify(exc) is TransientError and attempt < settings.retry_max_retries:
            raise _retry(task, exc, attempt) from None
        raise
    return {**skipped, "outcome": "succeeded", "seconds": round(time.monotonic() - began, 3), **summary}
