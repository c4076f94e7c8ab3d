"""What a failure means, decided once for every stage: transient or permanent, its reason in words,
whether it is a store failing (counted on that store's circuit breaker), and so what becomes of
the delivery that hit it: a retry, a deferral, a run alone, or the stage's error status — and what
is written on its row and stage run about it."""

from __future__ import annotations

import logging

import redis.exceptions
import sqlalchemy.exc
from celery.exceptions import SoftTimeLimitExceeded

from docflow.core.breaker import BreakerState, Store
from docflow.core.db import unavailability
from docflow.core.errors import IllegalTransition, PermanentError, StoreUnavailable, TransientError
from docflow.core.settings import get_settings
from docflow.core.status import ERROR, PROCESSING, Stage
from tasks import deferral
from tasks.outcomes import ALONE, DEFER, ERROR_, FAILED, RETRY, SKIPPED, Delivery, Outcome
from tasks.ports import NotStarted, StageContext, StagePorts

log = logging.getLogger(__name__)

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
    # A session whose connection dropped mid-transaction (the database went away): the next
    # attempt opens a new one.
    if isinstance(exc, sqlalchemy.exc.PendingRollbackError):
        return TransientError
    # Anything else is a bug or input we did not foresee: fail the document with the reason
    # rather than retry it forever or crash the worker.
    return PermanentError


def worth_sending_again(exc: BaseException | None, retries: int) -> bool:
    """An outcome that could not be recorded for a transient reason (the database is what failed) is
    sent again, within twice the retry budget; past it, reconcile finds the document stuck."""
    return exc is not None and classify(exc) is TransientError and retries < 2 * get_settings().retry_max_retries


def describe(exc: BaseException, stage: Stage) -> str:
    if isinstance(exc, SoftTimeLimitExceeded):
        soft, _ = get_settings().time_limits(stage.value)
        return f"{stage.value} stage exceeded its time limit of {soft}s"
    if isinstance(exc, (PermanentError, TransientError)):
        return str(exc)
    text = str(exc).splitlines()[0][:500] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def store_failure(exc: BaseException) -> StoreUnavailable | None:
    """The store failure ``exc`` is (refused, erroring, no answer), or None: the object store and
    Neo4j wrappers raise :class:`StoreUnavailable`; PostgreSQL's come as SQLAlchemy errors
    (:func:`docflow.core.db.unavailability`)."""
    if isinstance(exc, StoreUnavailable):
        return exc
    return unavailability(exc)


# -- what a failure means for a delivery --------------------------------------------------------------


def opened_by(exc: BaseException, ports: StagePorts) -> list[BreakerState]:
    """Count ``exc`` on its store's breaker when it is a store failure; the breaker when it is open now."""
    failure = store_failure(exc)
    if failure is None:
        return []
    state = ports.breakers.record_failure(Store(failure.store), reason=str(failure), unresponsive=failure.unresponsive)
    return [state] if state.is_open else []


def unclaimed_failure(exc: BaseException, delivery: Delivery, ports: StagePorts) -> Outcome:
    """A failure before anything was claimed (the claim's transaction rolled back)."""
    settings = get_settings()
    if opened := opened_by(exc, ports):
        wait = deferral.countdown(opened, settings=settings)
        return Outcome(DEFER, {}, wait, exc, delivery.deferred_deliveries, opened)
    if classify(exc) is TransientError and delivery.attempt < settings.retry_max_retries:
        return Outcome(RETRY, {}, settings.retry_countdown(delivery.attempt), exc)
    return Outcome(ERROR_, {}, exc=exc)


def claimed_failure(
    exc: BaseException, delivery: Delivery, ctx: StageContext, ports: StagePorts, notes: list[tuple]
) -> Outcome:
    """A claimed document's failure: its outcome, and what to record on its row (in ``notes``)."""
    settings, stage = get_settings(), ctx.stage
    result = {"document_id": delivery.document_id, "stage": stage.value, "outcome": SKIPPED}
    if isinstance(exc, NotStarted):
        # The batch hit its time limit first: this document runs again alone (its delivery was counted).
        return Outcome(ALONE, result, deferred_deliveries=delivery.deferred_deliveries + 1)
    reason = describe(exc, stage)
    if classify(exc) is TransientError:
        if opened := opened_by(exc, ports):
            message = "deferred: breaker " + "; ".join(state.describe() for state in opened)
            notes.append((ctx, delivery.attempt, PROCESSING[stage], "deferred", message))
            wait = deferral.countdown(opened, settings=settings)
            return Outcome(DEFER, result, wait, exc, delivery.deferred_deliveries + 1, opened)
        if delivery.attempt < settings.retry_max_retries:
            countdown = settings.retry_countdown(delivery.attempt)
            message = (
                f"transient error, retry {delivery.attempt + 1}/{settings.retry_max_retries} "
                f"in {countdown:.0f}s: {reason}"
            )
            notes.append((ctx, delivery.attempt, PROCESSING[stage], "retrying", message))
            return Outcome(RETRY, result, countdown, exc)
        reason = f"gave up after {delivery.attempt} retries: {reason}"
    notes.append((ctx, delivery.attempt, ERROR[stage], "failed", reason))
    log.warning("document %s failed in %s: %s", ctx.document_id, stage, reason)
    return Outcome(FAILED, {**result, "outcome": FAILED, "error": reason})


def record_notes(notes: list[tuple], outcomes: dict[int, Outcome], index_of: dict[int, int], ports: StagePorts) -> None:
    """Write the failures, retries and deferrals on their rows and stage runs, in one transaction."""
    if not notes:
        return
    try:
        with ports.unit_of_work() as records:
            for ctx, attempt, to, run_outcome, message in notes:
                try:
                    records.transition(
                        document_id=ctx.document_id, to=to, error_message=message, expected_task_id=ctx.task_id
                    )
                    records.finish_run(task_id=ctx.task_id, attempt=attempt, outcome=run_outcome, error=message)
                except IllegalTransition:
                    if run_outcome == "failed":
                        log.info(
                            "document %s moved on before this delivery failed (%s); no-op", ctx.document_id, message
                        )
                        skipped = {"document_id": ctx.document_id, "stage": ctx.stage.value, "outcome": SKIPPED}
                        outcomes[index_of[ctx.document_id]] = Outcome(SKIPPED, skipped)
    except Exception as exc:  # noqa: BLE001 - the database may be the thing that is down
        log.warning("stage notes not recorded (%s)", exc)
        for ctx, _attempt, _to, run_outcome, _message in notes:
            if run_outcome == "failed":  # its failure could not be recorded: the row says processing
                outcomes[index_of[ctx.document_id]] = Outcome(ERROR_, {}, exc=exc)
