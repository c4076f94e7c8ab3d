"""Data functions for documents: registration (dedupe) and status transitions.

Status changes happen here and only here, as compare-and-set updates: the row changes only if
its current status is one the status machine allows to reach the target, so two deliveries of
the same task racing each other cannot both "win" a transition.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, bindparam, case, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from docflow.core.db import insert_many
from docflow.core.errors import IllegalTransition
from docflow.core.models import SourceDocument, StageRun, table_of
from docflow.core.status import COMPLETE, ENTRY, Stage, Status, coarse, position, sources_of

MAX_ERROR_CHARS = 2000


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Registration:
    document: SourceDocument
    created: bool  # False: the same bytes were already registered in this project (a duplicate)


def register_document(
    session: Session,
    *,
    project_id: str,
    original_file_name: str,
    sha256: str,
    size_bytes: int,
    object_key: str | None,
    file_type: str | None = None,
    mime_type: str | None = None,
    ocr_languages: str | None = None,
    parent_document_id: int | None = None,
    member_path: str | None = None,
) -> Registration:
    """Insert the document unless ``(project_id, sha256)`` exists; idempotent under concurrency.

    ``parent_document_id``/``member_path``: the archive a member came from, set only when the row
    is created (the same bytes already registered on their own stay as they are).
    """
    statement = (
        insert(SourceDocument)
        .values(
            project_id=project_id,
            original_file_name=original_file_name[:1024],
            sha256=sha256,
            size_bytes=size_bytes,
            object_key=object_key,
            file_type=file_type,
            mime_type=mime_type,
            ocr_languages=ocr_languages,
            parent_document_id=parent_document_id,
            member_path=member_path,
        )
        .on_conflict_do_nothing(constraint="uq_source_documents_project_sha256")
        .returning(col(SourceDocument.id))
    )
    inserted = session.execute(statement).scalar_one_or_none()
    document = session.execute(
        select(SourceDocument).where(SourceDocument.project_id == project_id, SourceDocument.sha256 == sha256)
    ).scalar_one()
    return Registration(document=document, created=inserted is not None)


# The statements below run several times per stage task. Building a SQLAlchemy statement and its
# cache key costs more CPU than executing it, so each shape is built once per process (with bind
# parameters) and executed through the session's connection, without the ORM's unit of work.
_DOCUMENTS = table_of(SourceDocument)
_STAGE_RUNS = table_of(StageRun)


@functools.cache
def _transition_statement(to: Status, sources: frozenset[Status], bound: tuple[str, ...], owned: bool) -> Any:
    values: dict = {
        "celery_status": to.value,
        "initial_processing_status": coarse(to).value,
        "updated_at": func.now(),
        **{name: bindparam(f"set_{name}") for name in bound},
    }
    for stage, complete in COMPLETE.items():
        if to is complete:
            values[f"{stage.value}_completed_at"] = func.now()
    conditions = [
        _DOCUMENTS.c.id == bindparam("document_id"),
        _DOCUMENTS.c.celery_status.in_(sorted(s.value for s in sources)),
    ]
    if owned:  # and only while the row still names the task that asks
        conditions.append(_DOCUMENTS.c.celery_task_id == bindparam("expected_task_id"))
    return update(_DOCUMENTS).where(*conditions).values(**values).returning(*_DOCUMENTS.c)


_CURRENT_STATE = (
    _DOCUMENTS.select()
    .with_only_columns(_DOCUMENTS.c.celery_status, _DOCUMENTS.c.celery_task_id)
    .where(_DOCUMENTS.c.id == bindparam("document_id"))
)


def transition(
    session: Session,
    *,
    document_id: int,
    to: Status,
    task_id: str | None = None,
    error_message: str | None = None,
    extra: dict | None = None,
    allowed_from: frozenset[Status] | None = None,
    expected_task_id: str | None = None,
) -> Row:
    """Move a document to ``to`` if the status machine allows it from its current status.

    ``task_id`` (when given) becomes ``celery_task_id``. ``allowed_from`` overrides the machine's
    sources only for explicit re-drives and reprocessing. With ``expected_task_id`` the move also
    requires the row to still name that task: a delivery that was superseded (the document was
    reprocessed, re-driven or deleted meanwhile) can never complete or fail it. Raises
    :class:`IllegalTransition` otherwise. Returns the updated row (its columns as attributes).
    """
    sources = allowed_from if allowed_from is not None else sources_of(to)
    values = {"error_message": error_message[:MAX_ERROR_CHARS] if error_message else None, **(extra or {})}
    if task_id is not None:
        values["celery_task_id"] = task_id
    bound = tuple(sorted(values))
    connection = session.connection()
    parameters = {"document_id": document_id, **{f"set_{k}": v for k, v in values.items()}}
    if expected_task_id is not None:
        parameters["expected_task_id"] = expected_task_id
    statement = _transition_statement(to, frozenset(sources), bound, expected_task_id is not None)
    row = connection.execute(statement, parameters).one_or_none()
    if row is None:
        current = connection.execute(_CURRENT_STATE, {"document_id": document_id}).one_or_none()
        if current is None:
            raise IllegalTransition(f"document {document_id} does not exist")
        if expected_task_id is not None and current.celery_task_id != expected_task_id:
            raise IllegalTransition(
                f"document {document_id} is now handled by task {current.celery_task_id}, not {expected_task_id}"
            )
        raise IllegalTransition(
            f"illegal status transition {current.celery_status} → {to.value} for document {document_id}"
        )
    return row


_LOCK = _DOCUMENTS.select().where(_DOCUMENTS.c.id == bindparam("document_id")).with_for_update()


def lock_document(session: Session, *, document_id: int) -> Row | None:
    """Load the row (columns as attributes) with a row lock for the rest of the unit of work."""
    return session.connection().execute(_LOCK, {"document_id": document_id}).one_or_none()


_FINISH_STAGE_RUN = (
    update(_STAGE_RUNS)
    .where(_STAGE_RUNS.c.celery_task_id == bindparam("task_id"), _STAGE_RUNS.c.attempt == bindparam("run_attempt"))
    .values(outcome=bindparam("outcome"), finished_at=func.now(), error=bindparam("error"))
)


def finish_stage_run(session: Session, *, task_id: str, attempt: int, outcome: str, error: str | None = None) -> None:
    session.connection().execute(
        _FINISH_STAGE_RUN,
        {
            "task_id": task_id,
            "run_attempt": attempt,
            "outcome": outcome,
            "error": error[:MAX_ERROR_CHARS] if error else None,
        },
    )


def record_queued(session: Session, *, document_id: int, stage: Stage, task_id: str, outcome: str = "queued") -> None:
    """Note that a task was published for a stage (the queued time for latency figures)."""
    record_queued_many(session, stage=stage, task_ids={document_id: task_id}, outcome=outcome)


_RECORD_QUEUED = (
    insert(_STAGE_RUNS).values(queued_at=func.now()).on_conflict_do_nothing(constraint="uq_stage_runs_task_attempt")
)

REDRIVE_ATTEMPT = -1  # the stage-log row of a re-drive: never touched by the task's own attempts


def record_redrive(
    session: Session,
    *,
    document_id: int,
    stage: Stage,
    task_id: str,
    previous_status: str,
    reason: str,
    outcome: str = "redriven",
) -> None:
    """The stage-log row of a restart: a re-drive (reconcile) or a reprocess (an operator)."""
    verb = "re-driven" if outcome == "redriven" else outcome
    session.execute(
        insert(StageRun)
        .values(
            document_id=document_id,
            stage=stage.value,
            attempt=REDRIVE_ATTEMPT,
            celery_task_id=task_id,
            queued_at=func.now(),
            finished_at=func.now(),
            outcome=outcome,
            deliveries=0,
            error=f"{verb} from {previous_status}: {reason}"[:MAX_ERROR_CHARS],
        )
        .on_conflict_do_nothing(constraint="uq_stage_runs_task_attempt")
    )


def record_queued_many(session: Session, *, stage: Stage, task_ids: dict[int, str], outcome: str = "queued") -> None:
    """One multi-row insert of queued stage runs (document id → task id)."""
    if not task_ids:
        return
    rows = [
        dict(
            document_id=document_id, stage=stage.value, attempt=0, celery_task_id=task_id, outcome=outcome, deliveries=0
        )
        for document_id, task_id in task_ids.items()
    ]
    insert_many(session, _RECORD_QUEUED, rows)


def transition_many(session: Session, *, to: Status, task_ids: dict[int, str]) -> list[int]:
    """Batch form of :func:`transition` (same rule, one statement): returns the ids that moved.

    Rows whose current status may not reach ``to`` are left alone (and not returned).
    """
    if not task_ids:
        return []
    rows = (
        session.execute(
            update(SourceDocument)
            .where(
                col(SourceDocument.id).in_(list(task_ids)),
                col(SourceDocument.celery_status).in_([s.value for s in sources_of(to)]),
            )
            .values(
                celery_status=to.value,
                initial_processing_status=coarse(to).value,
                updated_at=func.now(),
                error_message=None,
                celery_task_id=case(task_ids, value=SourceDocument.id),
            )
            .returning(col(SourceDocument.id))
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    return list(rows)


def restart(
    session: Session,
    *,
    document: Row,
    stage: Stage,
    task_id: str,
    reason: str,
    outcome: str = "redriven",
    extra: dict[str, Any] | None = None,
) -> Row:
    """Put a locked document back at ``stage``'s entry under ``task_id``: the one way backwards.

    Compare-and-set on the status the caller saw; the stage's and every later stage's completion
    time is cleared (their results are about to be replaced), the restart is logged in
    ``stage_runs`` (attempt -1, ``outcome``, the reason) and the new task recorded as queued.
    The caller publishes after the commit.
    """
    cleared = {
        f"{later.value}_completed_at": None for later in Stage if position(ENTRY[later]) >= position(ENTRY[stage])
    }
    row = transition(
        session,
        document_id=document.id,
        to=ENTRY[stage],
        task_id=task_id,
        allowed_from=frozenset({Status(document.celery_status)}),
        extra={**cleared, **(extra or {})},
    )
    record_redrive(
        session,
        document_id=document.id,
        stage=stage,
        task_id=task_id,
        previous_status=document.celery_status,
        reason=reason,
        outcome=outcome,
    )
    record_queued(session, document_id=document.id, stage=stage, task_id=task_id)
    return row
