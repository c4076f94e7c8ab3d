"""What the stage runner decides for each delivered message: the delivery, and its outcome.

The runner (:mod:`tasks.runner`) decides; whoever handed it the deliveries carries the outcomes
out — a stage task for its one message (:func:`tasks.runner.run_stage`), the batch job for its
members (:mod:`tasks.batching`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from docflow.core.breaker import BreakerState
from docflow.core.status import Stage

StageResult = dict[str, Any]

# What the runner decided for a delivery; the adapter that received it carries it out.
SUCCEEDED, SKIPPED, FAILED = "succeeded", "skipped", "failed"  # acknowledged as they are
RETRY = "retry"  # sent again after the backoff, retry number + 1
DEFER = "defer"  # sent again after the breaker's wait, unchanged but for deferred_deliveries
ALONE = "alone"  # sent again at once to run outside any batch (a redelivery)
ERROR_ = "error"  # could not even be recorded: raised (one message) or logged (a batch)


@dataclass(frozen=True)
class Delivery:
    """One delivered message of a stage task."""

    task_id: str
    document_id: int
    attempt: int = 0  # Celery's retry number of the message
    hostname: str | None = None
    deferred_deliveries: int = 0  # deliveries of (task id, attempt) already counted that ended deferred


@dataclass
class Outcome:
    kind: str
    result: StageResult
    countdown: float = 0.0
    exc: BaseException | None = None
    deferred_deliveries: int = 0  # what a message sent again carries
    blocked: list[BreakerState] = field(default_factory=list)


def skipped(delivery: Delivery, stage: Stage) -> Outcome:
    return Outcome(SKIPPED, {"document_id": delivery.document_id, "stage": stage.value, "outcome": SKIPPED})
