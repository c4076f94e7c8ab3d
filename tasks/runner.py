"""The bookkeeping every stage task shares: status at start, work, status at the end, chain.

A stage task calls :func:`run_stage` with its document id and the stage's work function. This
module guarantees, for every stage:

* **Idempotent delivery.** A message for a document that is already past this stage, or whose
  row names a different responsible task, is acknowledged without effect.
* **Poison guard.** Deliveries of one (task id, retry) are counted in ``stage_runs``; a message
  that was delivered ``max_deliveries`` times without finishing (its worker died each time) ends
  the document in the stage's error status instead of killing workers forever.
* **Classified failures.** Permanent errors (bad input) end in ``error_*`` at once with the reason;
  transient errors keep the document in ``*_processing`` and retry with exponential backoff
  (``retry_backoff_base_s · factor^n``, at most ``retry_max_retries``), then end in ``error_*``.
* **Commit-then-publish chaining.** The next stage's task id is committed with ``*_complete``
  before the message is sent; reconcile re-drives the document if the send is lost.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import Row

from docflow import documents
from docflow.db import session_scope
from docflow.errors import IllegalTransition, PermanentError, TransientError
from docflow.settings import get_settings
from docflow.status import COMPLETE, ENTRY, ERROR, PROCESSING, Stage, Status, position
from docflow.submit import new_task_id, publish

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageContext:
    stage: Stage
    task_id: str
    # The document's row as this delivery claimed it (columns as attributes): the stage's work
    # reads the file name, object key and size from here instead of a second round trip.
    document: Row

    @property
    def document_id(self) -> int:
        return self.document.id

    @property
    def document_uuid(self) -> str:
        return str(self.document.document_uuid)

    @property
    def project_id(self) -> str:
        return self.document.project_id


def classify(exc: BaseException) -> type[Exception]:
    """Transient (retry) or permanent (fail now): decided once, here, for every stage."""
    if isinstance(exc, (PermanentError, SoftTimeLimitExceeded)):
        return PermanentError
    if isinstance(exc, TransientError):
        return TransientError
    import redis.exceptions
    import sqlalchemy.exc

    if isinstance(exc, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
                        sqlalchemy.exc.TimeoutError, redis.exceptions.ConnectionError,
                        redis.exceptions.TimeoutError, ConnectionError, TimeoutError)):
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


@functools.cache
def _monitor_client():
    # One client (and connection pool) per worker process, not one per stage call.
    from docflow.queues import redis_client

    return redis_client(get_settings())


def _monitor(ctx: StageContext, **fields) -> None:
    """Per-document monitoring hash in Redis (best effort: the row is the truth)."""
    try:
        key = f"docflow:monitor:{ctx.document_uuid}"
        # One round trip for both commands (no MULTI: the expiry is refreshed by the next write anyway).
        pipe = _monitor_client().pipeline(transaction=False)
        pipe.hset(key, mapping={"stage": ctx.stage.value, "task_id": ctx.task_id, **{k: str(v) for k, v in fields.items()}})
        pipe.expire(key, 7 * 24 * 3600)
        pipe.execute()
    except Exception as exc:  # noqa: BLE001
        log.debug("monitor hash not written: %s", exc)


def _begin(task: Task, stage: Stage, document_id: int) -> StageContext | None:
    """Claim the document for this stage, or return None when this delivery must do nothing."""
    settings = get_settings()
    request = task.request
    task_id, attempt, hostname = request.id, request.retries or 0, request.hostname
    with session_scope() as session:
        document = documents.lock_document(session, document_id=document_id)
        if document is None:
            log.warning("%s: document %s does not exist; message dropped", task.name, document_id)
            return None
        status = Status(document.celery_status)
        processing = PROCESSING[stage]
        if status not in (ENTRY[stage], processing):
            behind = position(status) < position(ENTRY[stage])
            log.info("%s: document %s is %s; %s delivery is a no-op", task.name, document_id, status,
                     "early" if behind else "late")
            return None
        if document.celery_task_id and document.celery_task_id != task_id:
            log.info("%s: document %s belongs to task %s; stale message %s is a no-op",
                     task.name, document_id, document.celery_task_id, task_id)
            return None
        deliveries = documents.record_stage_delivery(
            session, document_id=document_id, stage=stage, task_id=task_id, attempt=attempt, worker_hostname=hostname,
        )
        if deliveries > settings.max_deliveries:
            reason = (f"poison message: {task.name} was delivered {deliveries - 1} times without finishing "
                      f"(its worker died each time); giving up")
            documents.transition(session, document_id=document_id, to=ERROR[stage], error_message=reason)
            documents.finish_stage_run(session, task_id=task_id, attempt=attempt, outcome="failed", error=reason)
            log.error("%s: document %s: %s", task.name, document_id, reason)
            return None
        attempts_column = f"{stage.value}_attempts"
        claimed = documents.transition(
            session, document_id=document_id, to=processing, task_id=task_id,
            extra={attempts_column: getattr(document, attempts_column) + 1},
        )
    ctx = StageContext(stage, task_id, claimed)
    _monitor(ctx, worker=hostname or "", status=processing.value,
             started_at=datetime.now(timezone.utc).isoformat(), attempt=attempt)
    return ctx


def _complete(task: Task, ctx: StageContext, attempt: int) -> None:
    next_stage = ctx.stage.next
    next_task_id = new_task_id() if next_stage else None
    with session_scope() as session:
        documents.transition(session, document_id=ctx.document_id, to=COMPLETE[ctx.stage],
                             task_id=next_task_id or ctx.task_id)
        documents.finish_stage_run(session, task_id=ctx.task_id, attempt=attempt, outcome="succeeded")
        if next_stage:
            documents.record_queued(session, document_id=ctx.document_id, stage=next_stage, task_id=next_task_id)
    _monitor(ctx, status=COMPLETE[ctx.stage].value, finished_at=datetime.now(timezone.utc).isoformat())
    if next_stage:
        try:
            publish(stage=next_stage, document_id=ctx.document_id, task_id=next_task_id)
        except TransientError as exc:
            # The row already names the next task; reconcile finds it LOST and re-drives it.
            log.error("document %s: %s done but %s not published: %s", ctx.document_id, ctx.stage, next_stage, exc)


def _fail(task: Task, ctx: StageContext, attempt: int, reason: str) -> None:
    with session_scope() as session:
        documents.transition(session, document_id=ctx.document_id, to=ERROR[ctx.stage], error_message=reason)
        documents.finish_stage_run(session, task_id=ctx.task_id, attempt=attempt, outcome="failed", error=reason)
    _monitor(ctx, status=ERROR[ctx.stage].value, error=reason)
    log.warning("document %s failed in %s: %s", ctx.document_id, ctx.stage, reason)


def _note_retry(ctx: StageContext, attempt: int, message: str) -> None:
    try:
        with session_scope() as session:
            documents.transition(session, document_id=ctx.document_id, to=PROCESSING[ctx.stage], error_message=message)
            documents.finish_stage_run(session, task_id=ctx.task_id, attempt=attempt, outcome="retrying", error=message)
    except Exception as exc:  # noqa: BLE001 - the database may be the thing that is down
        log.warning("document %s: retry not recorded (%s)", ctx.document_id, exc)


def run_stage(task: Task, *, stage: Stage, document_id: int, work: Callable[[StageContext], dict | None]) -> dict:
    """Run one stage for one document with the guarantees in this module's docstring."""
    settings = get_settings()
    attempt = task.request.retries or 0
    try:
        ctx = _begin(task, stage, document_id)
    except IllegalTransition as exc:
        log.info("%s: %s; no-op", task.name, exc)
        return {"document_id": document_id, "stage": stage.value, "outcome": "skipped"}
    except Exception as exc:
        if classify(exc) is TransientError and attempt < settings.retry_max_retries:
            raise task.retry(exc=exc, countdown=settings.retry_countdown(attempt), max_retries=settings.retry_max_retries)
        raise
    if ctx is None:
        return {"document_id": document_id, "stage": stage.value, "outcome": "skipped"}

    began = time.monotonic()
    try:
        summary = work(ctx) or {}
    except Exception as exc:  # noqa: BLE001 - classified right here, once
        reason = describe(exc, stage)
        if classify(exc) is TransientError:
            if attempt < settings.retry_max_retries:
                countdown = settings.retry_countdown(attempt)
                _note_retry(ctx, attempt, f"transient error, retry {attempt + 1}/{settings.retry_max_retries} "
                                          f"in {countdown:.0f}s: {reason}")
                raise task.retry(exc=exc, countdown=countdown, max_retries=settings.retry_max_retries) from None
            reason = f"gave up after {attempt} retries: {reason}"
        try:
            _fail(task, ctx, attempt, reason)
        except IllegalTransition:
            log.info("document %s moved on before this delivery failed (%s); no-op", document_id, reason)
            return {"document_id": document_id, "stage": stage.value, "outcome": "skipped"}
        return {"document_id": document_id, "stage": stage.value, "outcome": "failed", "error": reason}

    try:
        _complete(task, ctx, attempt)
    except IllegalTransition as exc:
        # A duplicate delivery of this task finished first: its result stands, ours is the same.
        log.info("%s: document %s completed by another delivery (%s); no-op", task.name, document_id, exc)
        return {"document_id": document_id, "stage": stage.value, "outcome": "skipped"}
    except Exception as exc:
        if classify(exc) is TransientError and attempt < settings.retry_max_retries:
            # The work is done and idempotent; redoing it after the database is back is safe.
            raise task.retry(exc=exc, countdown=settings.retry_countdown(attempt), max_retries=settings.retry_max_retries)
        raise
    return {"document_id": document_id, "stage": stage.value, "outcome": "succeeded",
            "seconds": round(time.monotonic() - began, 3), **summary}
