"""The sweep engine: discovery, then batches under backpressure. One engine for every caller.

The scheduled ``intake-sweep`` flow, ``docflow intake`` and ``docflow watch`` all run
:func:`sweep`; the flow only hands in its Prefect tasks as the ``discover`` and ``run_batch``
steps, so its runs show discovery and every batch as task runs, retried by Prefect.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

from docflow.core.broker import queued_total
from docflow.core.settings import Settings
from docflow.core.storage import ObjectStorage
from docflow.ops.intake.batch import process_batch
from docflow.ops.intake.discovery import discover as discover_source
from docflow.ops.intake.outcomes import BatchResult, Candidate, FileOutcome, SweepOptions, SweepReport

T = TypeVar("T")


class Discover(Protocol):
    def __call__(self, options: SweepOptions) -> tuple[list[Candidate], list[FileOutcome]]: ...


class RunBatch(Protocol):
    def __call__(self, batch: list[Candidate], options: SweepOptions, seen: dict[str, str]) -> BatchResult: ...


def batched(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def sweep(
    options: SweepOptions,
    settings: Settings,
    *,
    discover: Discover | None = None,
    run_batch: RunBatch | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> SweepReport:
    """Sweep a local folder or an ``s3://bucket/prefix`` once: every file ends in the report.

    ``discover`` and ``run_batch`` default to running in this process; ``on_batch(done, total)``
    reports progress after each batch. Backpressure: no batch is enqueued while the stage queues
    hold more than ``options.backpressure_limit`` messages; the rest are reported as skipped and
    taken by a later sweep (a dry run enqueues nothing, so it is never held back).
    """
    began = time.monotonic()
    storage = ObjectStorage(settings)
    if discover is None:

        def discover(options: SweepOptions) -> tuple[list[Candidate], list[FileOutcome]]:
            return discover_source(options, settings, storage)

    if run_batch is None:

        def run_batch(batch: list[Candidate], options: SweepOptions, seen: dict[str, str]) -> BatchResult:
            return process_batch(batch, options=options, settings=settings, storage=storage, seen=seen)

    candidates, accounted = discover(options)
    report = SweepReport(options.source, options.project_id, options.dry_run, files=list(accounted))
    seen: dict[str, str] = {}
    done = 0
    for batch in batched(candidates, options.batch_size):
        if not options.dry_run and queued_total(settings) > options.backpressure_limit:
            report.files += [
                FileOutcome(c.shown, "skipped", f"backpressure: more than {options.backpressure_limit} messages queued")
                for c in candidates[done:]
            ]
            break
        result = run_batch(batch, options, dict(seen))
        report.files += result.outcomes
        seen.update(result.taken)
        done += len(batch)
        if on_batch:
            on_batch(done, len(candidates))
    report.seconds = time.monotonic() - began
    return report
