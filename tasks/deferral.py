"""Deferring a stage task while a store it needs is unavailable (its circuit breaker is open).

A deferred task is sent again as itself — the same task id, the same retry number — with a
countdown that ends about when the breaker is next probed, and this delivery is acknowledged. So:

* it holds no worker process while it waits (the worker keeps the deferred message, unacknowledged
  in Redis, as a scheduled task: reconcile sees it held, never LOST or STUCK);
* it uses none of the retry budget (``retries`` is unchanged) and none of ``max_deliveries``: a
  delivery that had already been counted (its document claimed) carries the number of such
  deferrals in ``deferred_deliveries``, which the poison guard subtracts;
* the row keeps its status and task id; a delivery that was deferred before claiming changed
  nothing at all (no database needed: when PostgreSQL is the store that failed, every stage waits).

A batch member (:mod:`tasks.batching`) that must run outside any batch is re-sent the same way,
marked ``alone``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from celery import Task
from celery.exceptions import Retry

from docflow.core.breaker import HALF_OPEN, BreakerState
from docflow.core.settings import Settings


def countdown(
    blocked: Sequence[BreakerState],
    *,
    settings: Settings,
    now: float | None = None,
    uniform: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds until the slowest of the blocking breakers may be probed (while one is being probed:
    at most the probe's timeout), at least 1 s, at most ``breaker_open_max_s``, spread by up to 20%
    so the deferred tasks of a fleet do not all come back in the same instant."""
    now = time.time() if now is None else now
    waits = []
    for state in blocked:
        wait = (state.retry_at - now) if state.retry_at is not None else settings.breaker_open_s
        if state.state == HALF_OPEN:
            wait = min(wait, settings.breaker_probe_timeout_s)
        waits.append(wait)
    wait = min(max(max(waits, default=0.0), 1.0), settings.breaker_open_max_s)
    return wait * uniform(1.0, 1.2)


def resend(task: Task, request: Any, *, wait: float, retries: int, kwargs: dict[str, Any]) -> Any:
    """Send the message of ``request`` (Celery's request context of one delivery) again as itself:
    the same task id and arguments, these keyword arguments, this retry number, after ``wait`` s."""
    signature = task.signature_from_request(
        request, args=list(request.args or ()), kwargs=kwargs, countdown=wait, retries=retries
    )
    signature.apply_async()
    return signature


def defer(task: Task, blocked: Sequence[BreakerState], *, deferred_deliveries: int, wait: float) -> Retry:
    """Send this task again after ``wait`` seconds, unchanged but for ``deferred_deliveries``; raise
    what this returns (Celery then acknowledges this delivery, as after a retry)."""
    request = task.request
    stores = ", ".join(state.describe() for state in blocked)
    kwargs = {**(request.kwargs or {}), "deferred_deliveries": deferred_deliveries}
    signature = resend(task, request, wait=wait, retries=request.retries or 0, kwargs=kwargs)
    return Retry(f"deferred {wait:.0f}s: breaker {stores}", when=wait, sig=signature)
