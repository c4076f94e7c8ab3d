"""Stage messages run in batches: up to ``batch_size`` waiting messages of one stage, in one pool process.

In the worker's consumer (the parent process), each stage task's Celery *strategy* collects the
messages of its stage as they arrive: when ``batch_size`` are waiting, or ``batch_linger_ms`` after
the first, they go to the pool as one job (:func:`run_batch`), which runs them through
:func:`tasks.runner.run_deliveries` together — one claim transaction, the stage's shared reads,
each document's own work, one completion transaction, one publish — and carries out each
document's outcome (a retry, a deferral, a run alone: the message sent again as itself).

Every message keeps its own Celery request, id and bookkeeping: the batch job's start, end and
loss are handed to each member's own handlers, so each is acknowledged only after the batch
returned (its result committed, or its next step sent), ``inspect active`` lists each, and when the
process running the batch dies every member goes back to its queue (``task_reject_on_worker_lost``)
and is delivered again — then counted as a redelivery, which runs alone (:mod:`tasks.runner`).
A message marked ``alone``, an ETA message (retries, deferrals) and a lone message run the usual
way. Prefetch counts a batch as one message: a message being collected takes no slot (QoS raised
by one while it waits here), and a batch in the pool takes one (its other members' slots are given
back when it ends), so the consumer collects the next batch while one runs, and at most one more
than the processes can take is ever waiting in this worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from celery import Celery, Task, current_app
from celery.app.task import Context
from celery.worker.strategy import default as default_strategy

from docflow.core.settings import get_settings
from docflow.core.status import STAGE_BY_TASK_NAME
from tasks import deferral
from tasks.failures import worth_sending_again
from tasks.runner import ALONE, DEFER, ERROR_, RETRY, Delivery, Outcome, run_deliveries

log = logging.getLogger(__name__)


def batching_strategy(task: Task, app: Celery, consumer: Any, **kwargs: Any) -> Callable[..., Any]:
    """The Celery strategy of a stage task (``Task.Strategy``): Celery's own, handing the requests
    it builds to a :class:`Batcher` instead of straight to the pool."""
    settings = get_settings()
    if settings.batch_size <= 1:
        return default_strategy(task, app, consumer, **kwargs)
    batcher = Batcher(task, consumer, size=settings.batch_size, linger_s=settings.batch_linger_ms / 1000)
    return default_strategy(task, app, _HandingTo(consumer, batcher.add), **kwargs)


class _HandingTo:
    """The consumer as Celery's strategy sees it, but for where a ready request goes."""

    def __init__(self, consumer: Any, on_task_request: Callable[[Any], None]) -> None:
        self._consumer, self.on_task_request = consumer, on_task_request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._consumer, name)


class Batcher:
    """One stage's collector in the consumer (single-threaded: the consumer's event loop)."""

    def __init__(self, task: Task, consumer: Any, *, size: int, linger_s: float) -> None:
        self.task, self.consumer, self.size, self.linger_s = task, consumer, size, linger_s
        self.pending: list[Any] = []
        self.timer: Any = None

    def add(self, request: Any) -> None:
        if request.kwargs.get("alone"):
            self.consumer.on_task_request(request)
            return
        self.pending.append(request)
        # A message waiting here is not in the pool yet: it takes no prefetch slot while collected.
        self.consumer.qos.increment_eventually()
        if len(self.pending) >= self.size:
            self.flush()
        elif self.timer is None:
            self.timer = self.consumer.timer.call_after(self.linger_s, self.flush)

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        collected, self.pending = self.pending, []
        batch = [request for request in collected if not request.revoked()]
        if len(batch) <= 1:
            self._lower(len(collected))
            for request in batch:
                self.consumer.on_task_request(request)
            return
        # In the pool, the batch takes one prefetch slot, like one message: its other members' slots
        # are given back only when it ends, so the consumer fetches for the other processes meanwhile.
        self._lower(len(collected) - len(batch) + 1)
        self._submit(batch, len(batch) - 1)

    def _lower(self, n: int) -> None:
        for _ in range(n):
            self.consumer.qos.decrement_eventually()

    def _submit(self, batch: list[Any], extra: int) -> None:
        hard, soft = batch[0].time_limits
        members = [(r.request_dict, list(r.args), dict(r.kwargs)) for r in batch]

        def accepted(pid: int, time_accepted: float) -> None:
            for request in batch:
                request.on_accepted(pid, time_accepted)

        def timed_out(soft: bool, timeout: float) -> None:
            for request in batch:
                request.on_timeout(soft, timeout)

        def done(results: list[Any]) -> None:
            self._lower(extra)
            for request, result in zip(batch, results, strict=True):
                request.on_success((False, result, 0.0))

        def failed(exc_info: Any) -> None:  # the process died, or the job itself raised
            self._lower(extra)
            for request in batch:
                request.on_failure(exc_info)

        self.consumer.pool.apply_async(
            run_batch,
            args=(self.task.name, members),
            accept_callback=accepted,
            timeout_callback=timed_out,
            callback=done,
            error_callback=failed,
            soft_timeout=soft or self.task.soft_time_limit,
            timeout=hard or self.task.time_limit,
            correlation_id=batch[0].id,
        )


# -- in the pool process --------------------------------------------------------------------------------


def run_batch(task_name: str, members: list[tuple[dict[str, Any], list[Any], dict[str, Any]]]) -> list[Any]:
    """Run a stage for the batch's deliveries and carry out each outcome; each member's result."""
    from tasks.stages import STAGE_BATCHABLE, STAGE_WORK  # registered by now: this runs in a worker

    task = current_app.tasks[task_name]
    stage = STAGE_BY_TASK_NAME[task_name]
    requests = [Context(request, args=args, kwargs=kwargs, called_directly=False) for request, args, kwargs in members]
    deliveries = [
        Delivery(r.id, int(r.args[0]), r.retries or 0, r.hostname, int(r.kwargs.get("deferred_deliveries", 0)))
        for r in requests
    ]
    began = time.monotonic()
    outcomes = run_deliveries(
        stage=stage, deliveries=deliveries, work=STAGE_WORK[stage], batchable=STAGE_BATCHABLE.get(stage)
    )
    spent = time.monotonic() - began
    for request, outcome in zip(requests, outcomes, strict=True):
        _carry_out(task, request, outcome)
        log.info("Task %s[%s] %s in a batch of %s (%.3fs)", task_name, request.id, outcome.kind, len(requests), spent)
    return [outcome.result for outcome in outcomes]


def _carry_out(task: Task, request: Context, outcome: Outcome) -> None:
    """What a batch member's outcome asks for: its message sent again (retry, deferral, alone)."""
    kwargs = dict(request.kwargs or {})
    try:
        if outcome.kind == RETRY:
            kwargs["deferred_deliveries"] = 0  # a new attempt counts its deliveries afresh
            deferral.resend(task, request, wait=outcome.countdown, retries=(request.retries or 0) + 1, kwargs=kwargs)
        elif outcome.kind in (DEFER, ALONE):
            kwargs["deferred_deliveries"] = outcome.deferred_deliveries
            if outcome.kind == ALONE:
                kwargs["alone"] = True
            deferral.resend(task, request, wait=outcome.countdown, retries=request.retries or 0, kwargs=kwargs)
        elif outcome.kind == ERROR_:
            retries = request.retries or 0
            if worth_sending_again(outcome.exc, retries):
                # Nothing could be written (the database is what failed): the row still says where the
                # document is, so the message comes back and its next delivery decides again.
                wait = get_settings().retry_countdown(retries)
                log.warning(
                    "Task %s[%s] could not be recorded (%r); sent again in %.0fs",
                    task.name,
                    request.id,
                    outcome.exc,
                    wait,
                )
                deferral.resend(task, request, wait=wait, retries=retries + 1, kwargs=kwargs)
            else:
                log.error("Task %s[%s] could not be recorded: %r", task.name, request.id, outcome.exc)
    except Exception as exc:  # noqa: BLE001 - Redis refused the message: the row is the truth, reconcile re-drives
        log.error("Task %s[%s] could not be sent again (%s): %s", task.name, request.id, outcome.kind, exc)
