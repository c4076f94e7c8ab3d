"""The intake sweep: the scheduled successor of the old queue poller.

A sweep discovers supported files in a folder or an ``s3://bucket/prefix``, takes only those
that stopped changing, dedupes them by sha256, stores and registers the new ones in batches and
submits them to Celery. The sweep itself is :func:`docflow.ops.intake.sweep` — the same engine
``docflow intake`` and ``docflow watch`` run; this flow hands it two Prefect tasks (discovery and
one batch), so the UI shows each as a task run and Prefect retries them. The per-document fan-out
is Celery's job: a sweep of 10,000 files is a handful of task runs.

Guarantee: every file is counted as new, duplicate, skipped or rejected-with-reason; a re-sweep
of an unchanged source submits nothing and reads nothing (see :mod:`docflow.ops.intake`).
"""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE

from docflow.core.settings import get_settings
from docflow.core.status import Status, is_terminal
from docflow.core.storage import ObjectStorage
from docflow.ops import intake
from docflow.ops.progress import wait_for_documents

SUMMARY_KEY = "intake-sweep-summary"
FILES_KEY = "intake-sweep-files"
PROGRESS_KEY = "intake-sweep-progress"


# Candidates and outcomes are per-run data: never hashed for caching, never persisted.
@task(name="intake.discover", retries=2, retry_delay_seconds=10, cache_policy=NO_CACHE, persist_result=False)
def discover(options: intake.SweepOptions) -> tuple[list[intake.Candidate], list[intake.FileOutcome]]:
    """List the source and screen every entry (junk, symlinks, type, size, stable-file delay)."""
    settings = get_settings()
    return intake.discover(options, settings, ObjectStorage(settings))


@task(name="intake.process_batch", retries=2, retry_delay_seconds=30, cache_policy=NO_CACHE, persist_result=False)
def process_batch(
    batch: list[intake.Candidate], options: intake.SweepOptions, seen: dict[str, str]
) -> intake.BatchResult:
    """Hash, dedupe, store, register and submit one batch (idempotent: the ledger and sha256 dedupe)."""
    settings = get_settings()
    return intake.process_batch(batch, options=options, settings=settings, storage=ObjectStorage(settings), seen=seen)


@task(name="intake.publish_report", cache_policy=NO_CACHE)
def publish_report(report: intake.SweepReport) -> None:
    """The run's summary and per-file table, under stable keys so the UI keeps their history."""
    create_markdown_artifact(report.markdown(), key=SUMMARY_KEY, description=f"Intake sweep of {report.source}")
    create_table_artifact(report.table(), key=FILES_KEY, description="Every file and what became of it")


@task(name="intake.follow_documents", cache_policy=NO_CACHE)
def follow_documents(document_ids: list[int], timeout_s: float) -> dict[int, str]:
    """Poll the rows until every document is terminal, updating a progress artifact."""
    total = len(document_ids)
    # Called from a sync task, Prefect's dual sync/async API returns the id itself.
    progress_id = cast(
        UUID,
        create_progress_artifact(0.0, key=PROGRESS_KEY, description=f"{total} documents to graph_complete or error"),
    )
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
    extensions: list[str] = list(intake.SUPPORTED_EXTENSIONS),  # noqa: B006 - Prefect reads defaults for the UI form
    patterns: list[str] = ["*"],  # noqa: B006 - Prefect reads defaults for the UI form
    stable_seconds: float = 10.0,
    batch_size: int = 200,
    backpressure_limit: int = 5000,
    dry_run: bool = False,
    wait: bool = False,
    wait_timeout_s: float = 3600.0,
    ocr_languages: str | None = None,
) -> dict[str, Any]:
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
        ocr_languages: Tesseract languages for these documents' scans, '+'-joined, e.g. "spa+eng" or "fra". Empty: the project's default (DOCFLOW_PROJECT_OCR_LANGUAGES) or DOCFLOW_OCR_LANGUAGES.
    """
    settings = get_settings()
    logger = get_run_logger()
    if batch_size < 1 or stable_seconds < 0 or backpressure_limit < 0:
        raise ValueError("batch_size must be >= 1; stable_seconds and backpressure_limit >= 0")
    options = intake.SweepOptions(
        source=str(source or settings.intake_dir),
        project_id=project_id or settings.project_id,
        recursive=recursive,
        extensions=tuple(e.lower().lstrip(".") for e in extensions),
        patterns=tuple(patterns),
        stable_seconds=stable_seconds,
        batch_size=batch_size,
        backpressure_limit=backpressure_limit,
        dry_run=dry_run,
        ocr_languages=ocr_languages or None,
    )
    report = intake.sweep(options, settings, discover=discover, run_batch=process_batch)
    publish_report(report)
    counts = report.counts()
    logger.info("swept %s: %s", options.source, ", ".join(f"{k}={v}" for k, v in counts.items()))
    held_back = sum(1 for f in report.files if (f.reason or "").startswith("backpressure"))
    if held_back:
        logger.warning("backpressure: %d files left for a later sweep", held_back)
    result = report.to_dict()
    if wait and not dry_run and report.new_document_ids():
        final = follow_documents(report.new_document_ids(), wait_timeout_s)
        failed = {doc_id: status for doc_id, status in final.items() if status != Status.GRAPH_COMPLETE.value}
        result["final_statuses"] = {str(k): v for k, v in final.items()}
        if failed:
            raise RuntimeError(
                f"{len(failed)} document(s) did not reach graph_complete: "
                + ", ".join(f"{doc_id}={status}" for doc_id, status in sorted(failed.items()))
            )
    return result
