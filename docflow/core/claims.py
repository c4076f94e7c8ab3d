"""A stage's bookkeeping for many documents at once: lock, count deliveries, claim, complete.

The same rules as :mod:`docflow.core.documents` (compare-and-set transitions allowed by the status
machine, the stage log keyed by (task id, attempt)), each as one set-based statement over the
deliveries of a batch instead of one statement per document: a batch of N documents costs the
same few round trips as one. Rows are always locked in id order, so two batches (or a batch and a
delete or reprocess, which lock one row) never deadlock. Statements are built once per process
and prepared by psycopg after their first few executions.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, text
from sqlmodel import Session

from docflow.core.status import COMPLETE, PROCESSING, Stage, coarse, sources_of

_LOCK = text("SELECT * FROM source_documents WHERE id = ANY(CAST(:ids AS integer[])) ORDER BY id FOR UPDATE")


def lock_many(session: Session, *, document_ids: Sequence[int]) -> dict[int, Row]:
    """The rows (columns as attributes), locked for the rest of the unit of work, by id."""
    rows = session.connection().execute(_LOCK, {"ids": list(document_ids)})
    return {row.id: row for row in rows}


_RECORD_DELIVERIES = text(
    """
    INSERT INTO stage_runs (document_id, stage, attempt, celery_task_id, worker_hostname, started_at, outcome, deliveries)
    SELECT d.document_id, :stage, d.attempt, d.task_id, d.hostname, now(), 'started', 1
    FROM unnest(CAST(:documents AS integer[]), CAST(:attempts AS integer[]), CAST(:tasks AS text[]),
                CAST(:hosts AS text[])) AS d(document_id, attempt, task_id, hostname)
    ON CONFLICT ON CONSTRAINT uq_stage_runs_task_attempt DO UPDATE
    SET deliveries = stage_runs.deliveries + 1, worker_hostname = excluded.worker_hostname,
        started_at = now(), outcome = 'started'
    RETURNING celery_task_id, attempt, deliveries
    """
)


def record_deliveries(
    session: Session, *, stage: Stage, deliveries: Sequence[tuple[int, str, int, str | None]]
) -> dict[tuple[str, int], int]:
    """Upsert the stage-run row of each (document id, task id, attempt, worker); how often each
    (task id, attempt) has now been delivered."""
    if not deliveries:
        return {}
    documents, tasks, attempts, hosts = zip(*deliveries, strict=True)
    rows = session.connection().execute(
        _RECORD_DELIVERIES,
        {
            "stage": stage.value,
            "documents": list(documents),
            "tasks": list(tasks),
            "attempts": list(attempts),
            "hosts": list(hosts),
        },
    )
    return {(task_id, attempt): deliveries for task_id, attempt, deliveries in rows}


@functools.cache
def _claim_statement(stage: Stage) -> Any:
    attempts = f"{stage.value}_attempts"
    return text(
        f"""
        UPDATE source_documents d
        SET celery_status = :to, initial_processing_status = :coarse, updated_at = now(),
            error_message = NULL, celery_task_id = c.task_id, {attempts} = d.{attempts} + 1
        FROM unnest(CAST(:ids AS integer[]), CAST(:tasks AS text[])) AS c(id, task_id)
        WHERE d.id = c.id AND d.celery_status = ANY(CAST(:sources AS text[]))
        RETURNING d.*
        """
    )


def claim_many(session: Session, *, stage: Stage, claims: Sequence[tuple[int, str]]) -> dict[int, Row]:
    """Move each (document id, task id) to the stage's processing status under that task, where the
    status machine allows it (rows locked by :func:`lock_many` first); the rows that moved, by id."""
    if not claims:
        return {}
    to = PROCESSING[stage]
    ids, tasks = zip(*claims, strict=True)
    rows = session.connection().execute(
        _claim_statement(stage),
        {
            "to": to.value,
            "coarse": coarse(to).value,
            "ids": list(ids),
            "tasks": list(tasks),
            "sources": sorted(s.value for s in sources_of(to)),
        },
    )
    return {row.id: row for row in rows}


@functools.cache
def _complete_statement(stage: Stage) -> Any:
    return text(
        f"""
        WITH c AS (
            SELECT * FROM unnest(CAST(:ids AS integer[]), CAST(:expected AS text[]), CAST(:next AS text[]))
                AS c(id, expected, next)
        ), locked AS (
            SELECT d.id FROM source_documents d JOIN c ON c.id = d.id ORDER BY d.id FOR UPDATE OF d
        )
        UPDATE source_documents d
        SET celery_status = :to, initial_processing_status = :coarse, updated_at = now(),
            error_message = NULL, celery_task_id = c.next, {stage.value}_completed_at = now()
        FROM c, locked
        WHERE d.id = c.id AND locked.id = d.id AND d.celery_task_id = c.expected
          AND d.celery_status = ANY(CAST(:sources AS text[]))
        RETURNING d.id
        """
    )


def complete_many(session: Session, *, stage: Stage, completions: Sequence[tuple[int, str, str]]) -> set[int]:
    """Move each (document id, its task id, the next task id) to the stage's completion, only while
    the row still names that task (compare-and-set), naming the next task; the ids that moved. The
    rows stay locked for the rest of the unit of work (the stage's result is written under them)."""
    if not completions:
        return set()
    to = COMPLETE[stage]
    ids, expected, following = zip(*completions, strict=True)
    rows = session.connection().execute(
        _complete_statement(stage),
        {
            "to": to.value,
            "coarse": coarse(to).value,
            "ids": list(ids),
            "expected": list(expected),
            "next": list(following),
            "sources": sorted(s.value for s in sources_of(to)),
        },
    )
    return {row.id for row in rows}


_FINISH_RUNS = text(
    """
    UPDATE stage_runs s SET outcome = :outcome, finished_at = now(), error = NULL
    FROM unnest(CAST(:tasks AS text[]), CAST(:attempts AS integer[])) AS r(task_id, attempt)
    WHERE s.celery_task_id = r.task_id AND s.attempt = r.attempt
    """
)


def finish_runs(session: Session, *, runs: Sequence[tuple[str, int]], outcome: str) -> None:
    """Close the stage-run rows of (task id, attempt) with ``outcome`` (no error: for successes)."""
    if not runs:
        return
    tasks, attempts = zip(*runs, strict=True)
    session.connection().execute(_FINISH_RUNS, {"outcome": outcome, "tasks": list(tasks), "attempts": list(attempts)})


_STAMP = text("UPDATE source_documents SET updated_at = clock_timestamp() WHERE id = ANY(CAST(:ids AS integer[]))")


def stamp_updated(session: Session, *, document_ids: Sequence[int]) -> None:
    """Set the rows' ``updated_at`` to this moment (not the transaction's start, which ``now()`` is).

    The last statement of a long transaction (a completion whose Neo4j write takes seconds): readers
    that follow ``updated_at`` with a lag (the webhook deliverer reads it ``webhook_settle_s`` behind
    the clock) would otherwise pass a change that began before their bound and committed after it."""
    if document_ids:
        session.connection().execute(_STAMP, {"ids": list(document_ids)})
