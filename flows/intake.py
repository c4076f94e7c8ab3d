"""The intake sweep: the scheduled successor of the old queue poller.

A sweep discovers supported files in a folder or an ``s3://bucket/prefix``, takes only those
that stopped changing, dedupes them by sha256, stores and registers the new ones in batches and
submits them to Celery. Prefect sees coarse tasks (discover, one task per batch, the report):
the per-document fan-out is Celery's job, so a sweep of 10,000 files is a handful of task runs.

Guarantee: every file is counted as new, duplicate, skipped or rejected-with-reason; a re-sweep
of an unchanged source submits nothing (see :mod:`docflow.intake`).
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact, update_progress_artifact

from docflow import intake
from docflow.settings import get_settings


@task(name="intake.discover", retries=2, retry_delay_seconds=10)
def discover(options: intake.SweepOptions) -> tuple[list[intake.Candidate], list[intake.FileOutcome]]:
    """List the source and screen every entry (junk, symlinks, type, size, stable-file delay)."""
    settings = get_settings()
    if options.source.startswith("s3://"):
        raise ValueError("S3 sources are swept by intake.sweep directly")  # pragma: no cover
    return intake.discover_local(options, settings)


@task(name="intake.process_batch", retries=2, retry_delay_seconds=30)
def process_batch(batch: list[intake.Candidate], options: intake.SweepOptions) -> list[intake.FileOutcome]:
    """Hash, dedupe, store, register and submit one batch (idempotent: the ledger and sha256 dedupe)."""
    from docflow.storage import ObjectStorage

    settings = get_settings()
    return intake.process_batch(batch, options=options, settings=settings, storage=ObjectStorage(settings))


@task(name="intake.publish_report")
def publish_report(report: intake.SweepReport) -> None:
    """The run's summary and per-file table, under stable keys so the UI keeps their history."""
    create_markdown_artifact(report.markdown(), key="intake-sweep-summary",
                             description=f"Intake sweep of {report.source}")
    create_table_artifact(report.table(), key="intake-sweep-files", description="Every file and what became of it")


@task(name="intake.follow_documents")
def follow_documents(document_ids: list[int], timeout_s: float) -> dict[int, str]:
    """Poll the rows until every document is terminal, updating a progress artifact."""
    from docflow.progress import wait_for_documents
    from docflow.status import is_terminal

    total = len(document_ids)
    progress_id = create_progress_artifact(0.0, key="intake-sweep-progress",
                                           description=f"{total} documents to graph_complete or error")
    done: set[int] = set()

    def on_change(document_id: int, status: str, _error: str | None) -> None:
        if is_terminal(status) and document_id not in done:
            done.add(document_id)
            update_progress_artifact(progress_id, 100.0 * len(done) / total)

    final = wait_for_documents(document_ids, timeout_s=timeout_s, poll_s=1.0, on_change=on_change)
    update_progress_artifact(progress_id, 100.0 * len(done) / max(total, 1))
    return final


@flow(name="intake-sweep", log_prints=True, validate_parameters=True)
def intake_sweep(
    source: str | None = None,
    project_id: str | None = None,
    recursive: bool = True,
    extensions: list[str] = list(intake.SUPPORTED_EXTENSIONS),
    patterns: list[str] = ["*"],
    stable_seconds: float = 10.0,
    batch_size: int = 200,
    backpressure_limit: int = 5000,
    dry_run: bool = False,
    wait: bool = False,
    wait_timeout_s: float = 3600.0,
) -> dict:
    """Sweep an intake folder or S3 prefix and submit every new document to the pipeline.

    Args:
        source: A local folder or an s3://bucket/prefix to sweep. Default: the configured intake folder.
        project_id: Project the documents belong to (duplicates are detected per project). Default: from settings.
        recursive: Also sweep sub-folders (or the whole prefix).
        extensions: File extensions to take; anything else is rejected with a reason.
        patterns: Glob patterns a file name must match (e.g. ["invoice-*"]).
        stable_seconds: A file is taken only after its size and mtime stayed unchanged this long, so half-written files are never read.
        batch_size: Files registered, uploaded and submitted together.
        backpressure_limit: Do not enqueue while the stage queues already hold more than this many messages.
        dry_run: Report what would happen without registering or submitting anything.
        wait: Follow the new documents to a terminal status; the run fails if any ends in error.
        wait_timeout_s: How long to follow them with wait=True.
    """
    settings = get_settings()
    logger = get_run_logger()
    if batch_size < 1 or stable_seconds < 0 or backpressure_limit < 0:
        raise ValueError("batch_size must be >= 1; stable_seconds and backpressure_limit >= 0")
    options = intake.SweepOptions(
        source=str(source or settings.intake_dir), project_id=project_id or settings.project_id,
        recursive=recursive, extensions=tuple(e.lower().lstrip(".") for e in extensions), patterns=tuple(patterns),
        stable_seconds=stable_seconds, batch_size=batch_size, backpressure_limit=backpressure_limit, dry_run=dry_run,
    )
    if options.source.startswith("s3://"):
        report = intake.sweep(options, settings)
    else:
        import time

        began = time.monotonic()
        candidates, accounted = discover(options)
        report = intake.SweepReport(options.source, options.project_id, dry_run)
        report.files += accounted
        # A dry run registers nothing, so only one batch can see every duplicate within the sweep.
        step = max(len(candidates), 1) if dry_run else batch_size
        for index, batch in enumerate(intake.batched(candidates, step)):
            if not dry_run and intake.queued_total(settings) > backpressure_limit:
                rest = candidates[index * step:]
                logger.warning("backpressure: queues hold more than %d messages; %d files left for a later sweep",
                               backpressure_limit, len(rest))
                report.files += [intake.FileOutcome(c.relative_path, "skipped",
                                                    f"backpressure: more than {backpressure_limit} messages queued")
                                 for c in rest]
                break
            report.files += process_batch(batch, options)
        report.seconds = time.monotonic() - began
    publish_report(report)
    counts = report.counts()
    logger.info("swept %s: %s", options.source, ", ".join(f"{k}={v}" for k, v in counts.items()))
    result = report.to_dict()
    if wait and not dry_run and report.new_document_ids():
        final = follow_documents(report.new_document_ids(), wait_timeout_s)
        failed = {doc_id: status for doc_id, status in final.items() if status != "graph_complete"}
        result["final_statuses"] = {str(k): v for k, v in final.items()}
        if failed:
            raise RuntimeError(f"{len(failed)} document(s) did not reach graph_complete: "
                               + ", ".join(f"{doc_id}={status}" for doc_id, status in sorted(failed.items())))
    return result
