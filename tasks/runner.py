"""The bookkeeping every stage shares: status at start, work, status at the end, chain — for one
delivered message or for a batch of them.

:func:`run_deliveries` takes the deliveries of one stage (one message, or up to a batch's worth
collected by :mod:`tasks.batching`), and decides an :class:`Outcome` for each; :func:`run_stage`
is the one-message form a stage task calls. For every delivery, alone or in a batch:

* **Idempotent delivery.** A message for a document that is already past this stage (late), not
  yet at it (early), or whose row names a different responsible task (stale), is acknowledged
  without effect (so is a second message for a document already in the same batch).
* **Poison guard.** Deliveries of one (task id, retry) are counted in ``stage_runs`` and committed
  before the work starts; a message delivered ``max_deliveries`` times without finishing (its
  worker died each time) ends the document in the stage's error status. Deliveries that ended
  deferred are not counted (``deferred_deliveries``). A redelivery never runs inside a batch: it
  is sent again to run alone, so one document that kills its process cannot take others with it.
* **Classified failures.** Permanent errors (bad input) end in ``error_*`` at once with the reason;
  transient errors keep the document in ``*_processing`` and retry with jittered exponential
  backoff (``Settings.retry_countdown``: 60·2ⁿ s ± 25 % by default, at most ``retry_max_retries``),
  then end in ``error_*``. Each document of a batch gets its own outcome.
* **One transaction per stage result.** The claims of a batch are one transaction; the results
  that succeeded are written in one more, which first moves each document to ``*_complete`` by
  compare-and-set on its task id (locking its row), then writes its result, closes its stage run
  and records the next stage's task. A delivery overtaken by a delete, a reprocess or a re-drive
  drops its result instead of writing over the new owner's. A batch whose completion fails for
  good is completed document by document, so one bad result fails one document.
* **Commit-then-publish chaining.** The next stage's task ids are committed with ``*_complete``
  before the messages are sent (one round trip for the batch); reconcile re-drives a document if
  its send is lost.
* **A stalled store holds no worker.** Before claiming, the breakers of the stores the stage needs
  (:data:`~docflow.core.breaker.STAGE_STORES`) are consulted; while one is open the deliveries are
  deferred (:mod:`tasks.deferral`: re-sent unchanged with a countdown, no retry or delivery used up).
  A store failure is counted on its breaker; when that opens it, the delivery defers instead of
  retrying.

The runner reaches PostgreSQL, the broker, the breakers and the monitoring hashes only through
:class:`~tasks.ports.StagePorts`, so its decisions are unit-tested against an in-memory bookkeeping
(``tests/unit/test_runner.py``); the real ports are :func:`~tasks.ports.default_ports`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from celery import Task

from docflow.core.breaker import STAGE_STORES
from docflow.core.broker import new_task_id
from docflow.core.errors import IllegalTransition, PermanentError, TransientError
from docflow.core.settings import get_settings
from docflow.core.status import COMPLETE, ENTRY, ERROR, PROCESSING, Stage, Status, position
from tasks import deferral
from tasks.failures import claimed_failure, classify, record_notes, unclaimed_failure, worth_sending_again
from tasks.outcomes import ALONE, DEFER, ERROR_, RETRY, SKIPPED, SUCCEEDED, Delivery, Outcome, StageResult, skipped
from tasks.ports import StageContext, StageOutput, StagePorts, StageWork, default_ports

log = logging.getLogger(__name__)

WorkFunction = Callable[[list[StageContext]], StageWork]

# -- claiming -------------------------------------------------------------------------------------------


def _is_not_for_now(delivery: Delivery, row: Any, stage: Stage, task_name: str) -> bool:
    """A message this stage must acknowledge without effect (missing, early, late or stale)."""
    if row is None:
        log.warning("%s: document %s does not exist; message dropped", task_name, delivery.document_id)
        return True
    status = Status(row.celery_status)
    if status not in (ENTRY[stage], PROCESSING[stage]):
        when = "early" if position(status) < position(ENTRY[stage]) else "late"
        log.info("%s: document %s is %s; %s delivery is a no-op", task_name, delivery.document_id, status, when)
        return True
    if row.celery_task_id and row.celery_task_id != delivery.task_id:
        log.info(
            "%s: document %s belongs to task %s; stale message %s is a no-op",
            task_name,
            delivery.document_id,
            row.celery_task_id,
            delivery.task_id,
        )
        return True
    return False


def _claim(
    stage: Stage,
    deliveries: Sequence[Delivery],
    ports: StagePorts,
    decided: dict[int, Outcome],
    batchable: Callable[[Any], bool] | None,
) -> list[tuple[int, StageContext]]:
    """Claim what may run now (one transaction); the others' outcomes go into ``decided``."""
    settings, task_name = get_settings(), stage.task_name
    batch = len(deliveries) > 1
    candidates: list[int] = []
    with ports.unit_of_work() as records:
        rows = records.lock_many(document_ids=sorted({d.document_id for d in deliveries}))
        # Documents whose current message is already taken in this batch: only a message the row names
        # takes its document (a stale one before it must not hide the current one behind it).
        taken: set[int] = set()
        for index, delivery in enumerate(deliveries):
            row = rows.get(delivery.document_id)
            if delivery.document_id in taken or _is_not_for_now(delivery, row, stage, task_name):
                decided[index] = skipped(delivery, stage)
                continue
            taken.add(delivery.document_id)
            if batch and batchable is not None and not batchable(row):
                # Too heavy to hold a batch up (a scan to OCR): it runs alone, not yet counted.
                decided[index] = Outcome(ALONE, {}, deferred_deliveries=delivery.deferred_deliveries)
            else:
                candidates.append(index)
        counts = records.record_deliveries(
            stage=stage,
            deliveries=[(d.document_id, d.task_id, d.attempt, d.hostname) for d in (deliveries[i] for i in candidates)],
        )
        claims: list[int] = []
        for index in candidates:
            delivery = deliveries[index]
            counted = counts[(delivery.task_id, delivery.attempt)] - delivery.deferred_deliveries
            if counted > settings.max_deliveries:
                reason = (
                    f"poison message: {task_name} was delivered {counted - 1} times without finishing "
                    f"(its worker died each time); giving up"
                )
                records.transition(document_id=delivery.document_id, to=ERROR[stage], error_message=reason)
                records.finish_run(task_id=delivery.task_id, attempt=delivery.attempt, outcome="failed", error=reason)
                log.error("%s: document %s: %s", task_name, delivery.document_id, reason)
                decided[index] = skipped(delivery, stage)
            elif batch and counted > 1:
                # A redelivery: its last delivery may have killed the process. Alone, it can take no
                # other document with it (its count carries on: this delivery ended deferred).
                decided[index] = Outcome(ALONE, {}, deferred_deliveries=delivery.deferred_deliveries + 1)
            else:
                claims.append(index)
        moved = records.claim_many(
            stage=stage, claims=[(deliveries[i].document_id, deliveries[i].task_id) for i in claims]
        )
    claimed = [
        (i, StageContext(stage, deliveries[i].task_id, moved[deliveries[i].document_id], deliveries[i].attempt))
        for i in claims
        if deliveries[i].document_id in moved
    ]
    for index in claims:
        if deliveries[index].document_id not in moved:
            decided[index] = skipped(deliveries[index], stage)
    started = datetime.now(UTC).isoformat()
    ports.monitor(
        [
            (ctx, {"worker": deliveries[i].hostname or "", "status": PROCESSING[stage].value, "started_at": started})
            for i, ctx in claimed
        ]
    )
    return claimed


# -- completion -------------------------------------------------------------------------------------------


def _complete(stage: Stage, ctxs: list[StageContext], work: StageWork, ports: StagePorts) -> dict[int, str]:
    """Move the documents to the stage's completion and write their results (one transaction);
    the next stage's task id of each document that moved (its own task id at the last stage)."""
    following = {ctx.document_id: (new_task_id() if stage.next else ctx.task_id) for ctx in ctxs}
    with ports.unit_of_work() as records:
        moved = records.complete_many(
            stage=stage, completions=[(ctx.document_id, ctx.task_id, following[ctx.document_id]) for ctx in ctxs]
        )
        owned = [ctx for ctx in ctxs if ctx.document_id in moved]
        work.save(records, [ctx.document_id for ctx in owned])
        records.finish_runs(runs=[(ctx.task_id, ctx.attempt) for ctx in owned], outcome="succeeded")
        if stage.next and owned:
            records.record_queued_many(
                stage=stage.next, task_ids={c.document_id: following[c.document_id] for c in owned}
            )
        # Last before the commit: the rows say when the result became visible, not when this
        # transaction began (a graph write inside it can take seconds; see stamp_updated).
        records.stamp_updated(document_ids=[ctx.document_id for ctx in owned])
    if work.after_commit is not None:
        work.after_commit()
    return {document_id: following[document_id] for document_id in moved}


# -- one stage, one or many deliveries ---------------------------------------------------------------------


def run_deliveries(
    *,
    stage: Stage,
    deliveries: Sequence[Delivery],
    work: WorkFunction,
    ports: StagePorts | None = None,
    batchable: Callable[[Any], bool] | None = None,
) -> list[Outcome]:
    """Run ``stage`` for the deliveries, with the guarantees in this module's docstring; an outcome each.

    ``batchable(row)`` says whether a document may run in a batch of several (no: it runs alone)."""
    ports = ports or default_ports()
    stores = STAGE_STORES[stage]
    blocked = ports.breakers.blocking(stores)
    if blocked:
        wait = deferral.countdown(blocked, settings=get_settings())
        return [Outcome(DEFER, {}, wait, None, d.deferred_deliveries, blocked) for d in deliveries]
    decided: dict[int, Outcome] = {}
    try:
        claimed = _claim(stage, deliveries, ports, decided, batchable)
    except IllegalTransition as exc:
        log.info("%s: %s; no-op", stage.task_name, exc)
        return [skipped(d, stage) for d in deliveries]
    except Exception as exc:  # noqa: BLE001 - classified right here, once
        return [unclaimed_failure(exc, d, ports) for d in deliveries]
    if not claimed:
        return [decided[i] for i in range(len(deliveries))]

    began = time.monotonic()
    index_of = {ctx.document_id: i for i, ctx in claimed}
    done = _run_work(work, [ctx for _, ctx in claimed])
    notes: list[tuple] = []
    succeeded: list[StageContext] = []
    for i, ctx in claimed:
        output = done.outputs[ctx.document_id]
        if isinstance(output, StageOutput):
            succeeded.append(ctx)
        else:
            decided[i] = claimed_failure(output, deliveries[i], ctx, ports, notes)
    record_notes(notes, decided, index_of, ports)
    if succeeded:
        _completed(stage, succeeded, done, deliveries, index_of, decided, ports, began)
    return [decided[i] for i in range(len(deliveries))]


def _run_work(work: WorkFunction, ctxs: list[StageContext]) -> StageWork:
    """The stage's work; an error escaping it entirely (its shared reads) is every document's."""
    try:
        done = work(ctxs)
    except Exception as exc:  # noqa: BLE001 - classified per document by the caller
        return StageWork({ctx.document_id: exc for ctx in ctxs}, store=_nothing_to_store)
    for ctx in ctxs:
        done.outputs.setdefault(ctx.document_id, PermanentError("the stage's work returned nothing for it"))
    return done


def _nothing_to_store(_records: Any, outputs: list[StageOutput]) -> None:
    assert not outputs, "a work that failed as a whole has no output to store"


def _completed(
    stage: Stage,
    succeeded: list[StageContext],
    done: StageWork,
    deliveries: Sequence[Delivery],
    index_of: dict[int, int],
    decided: dict[int, Outcome],
    ports: StagePorts,
    began: float,
) -> None:
    """Complete the documents whose work succeeded, chain the next stage, and decide their outcomes."""
    try:
        following = _complete(stage, succeeded, done, ports)
    except Exception as exc:  # noqa: BLE001 - classified right here, once
        if len(succeeded) > 1 and classify(exc) is PermanentError:
            # One result that cannot be written must not fail the batch: complete each alone.
            for ctx in succeeded:
                _completed(stage, [ctx], done, deliveries, index_of, decided, ports, began)
            return
        # The work is done and idempotent; redoing it (after a retry or a deferral) is safe.
        notes: list[tuple] = []
        for ctx in succeeded:
            decided[index_of[ctx.document_id]] = claimed_failure(
                exc, deliveries[index_of[ctx.document_id]], ctx, ports, notes
            )
        record_notes(notes, decided, index_of, ports)
        return
    finished = datetime.now(UTC).isoformat()
    ports.monitor([(ctx, {"status": COMPLETE[stage].value, "finished_at": finished}) for ctx in succeeded])
    if stage.next and following:
        try:
            ports.publish(stage=stage.next, task_ids=following)
        except TransientError as exc:
            # The rows already name the next tasks; reconcile finds them LOST and re-drives them.
            log.error("%s done for %s documents but %s not published: %s", stage, len(following), stage.next, exc)
    ports.breakers.record_success(STAGE_STORES[stage])
    seconds = round(time.monotonic() - began, 3)
    for ctx in succeeded:
        i = index_of[ctx.document_id]
        result: StageResult = {"document_id": ctx.document_id, "stage": stage.value, "outcome": SKIPPED}
        if ctx.document_id not in following:
            # A duplicate delivery finished first, or the document moved on: its result stands.
            log.info("%s: document %s completed elsewhere; this delivery is a no-op", stage.task_name, ctx.document_id)
            decided[i] = Outcome(SKIPPED, result)
            continue
        output = done.outputs[ctx.document_id]
        assert isinstance(output, StageOutput)
        decided[i] = Outcome(SUCCEEDED, {**result, "outcome": SUCCEEDED, "seconds": seconds, **output.summary})


# -- the one-message form, as a Celery task runs it --------------------------------------------------------


def run_stage(
    task: Task,
    *,
    stage: Stage,
    document_id: int,
    work: WorkFunction,
    ports: StagePorts | None = None,
    deferred_deliveries: int = 0,
) -> StageResult:
    """Run one stage for this task's document; what was decided is done here: a retry or a deferral
    raises Celery's retry (the message was sent again), an error that could not be recorded raises."""
    request = task.request
    attempt = request.retries or 0
    delivery = Delivery(request.id, document_id, attempt, request.hostname, deferred_deliveries)
    (outcome,) = run_deliveries(stage=stage, deliveries=[delivery], work=work, ports=ports)
    if outcome.kind == RETRY:
        settings = get_settings()
        raise task.retry(
            args=list(request.args or ()),
            kwargs={**(request.kwargs or {}), "deferred_deliveries": 0},  # a new attempt counts afresh
            exc=outcome.exc,
            countdown=outcome.countdown,
            max_retries=settings.retry_max_retries,
        )
    if outcome.kind == DEFER:
        raise deferral.defer(
            task, outcome.blocked, deferred_deliveries=outcome.deferred_deliveries, wait=outcome.countdown
        )
    if outcome.kind == ERROR_:
        assert outcome.exc is not None
        settings = get_settings()
        if worth_sending_again(outcome.exc, attempt):
            # Nothing could be written (the database is what failed): the row still says where the
            # document is, so the message comes back and its next delivery decides again.
            raise task.retry(
                exc=outcome.exc,
                countdown=settings.retry_countdown(attempt),
                max_retries=2 * settings.retry_max_retries,
            )
        raise outcome.exc
    return outcome.result
