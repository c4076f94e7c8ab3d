"""Registering documents and handing them to Celery.

Delivery guarantee: **commit-then-publish**. The row is committed with ``celery_status``
``ocr_queued`` and the id of the task about to be sent, then the message is published with that
id. A crash or a Redis outage between the two leaves a row that says "queued" with no message
anywhere; the reconcile flow classifies it LOST after its grace period and re-drives it from the
row. Nothing is lost silently, and there is no second store (outbox) to keep in step. The reverse
order (publish, then commit) could run a task for a row that does not exist yet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from docflow.core import documents
from docflow.core.broker import new_task_id, publish
from docflow.core.db import session_scope
from docflow.core.errors import IllegalTransition, PermanentError, TransientError
from docflow.core.filetypes import sniff_file
from docflow.core.names import base_name, display_name
from docflow.core.settings import Settings, get_settings
from docflow.core.status import Stage, Status, redrive_target
from docflow.core.storage import ObjectStorage, original_key, sha256_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubmitResult:
    document_id: int
    task_id: str | None
    success: bool
    error: str | None = None


def submit_document(*, document_id: int, settings: Settings | None = None) -> SubmitResult:
    """Submit a registered (``pending``) document to the OCR queue: (task id, success).

    Idempotent: a document that is already past ``pending`` is not submitted again.
    """
    task_id = new_task_id()
    try:
        with session_scope() as session:
            documents.transition(session, document_id=document_id, to=Status.OCR_QUEUED, task_id=task_id)
            documents.record_queued(session, document_id=document_id, stage=Stage.OCR, task_id=task_id)
    except IllegalTransition as exc:
        return SubmitResult(document_id, None, False, str(exc))
    try:
        publish(stage=Stage.OCR, document_id=document_id, task_id=task_id, settings=settings)
    except TransientError as exc:
        log.warning(
            "document %s committed as ocr_queued but not published (reconcile will re-drive): %s", document_id, exc
        )
        return SubmitResult(document_id, task_id, False, str(exc))
    return SubmitResult(document_id, task_id, True)


def redrive_document(
    *, document_id: int, reason: str, expected_task_id: str | None = None, settings: Settings | None = None
) -> SubmitResult:
    """Put a document back at the entry of its current (or failed) stage and publish that stage.

    Used by reconcile repair and operator reprocessing. Safe to repeat: each stage is idempotent,
    and the new task id makes any stale message for the old one a no-op. With
    ``expected_task_id`` the re-drive happens only if the row still names that task (a repair
    decided on a snapshot must not override a document that moved on meanwhile).
    The re-drive is recorded on the stage log as its own row (attempt -1, outcome ``redriven``,
    the reason), which the new task's own runs never overwrite.
    """
    task_id = new_task_id()
    with session_scope() as session:
        document = documents.lock_document(session, document_id=document_id)
        if document is None:
            return SubmitResult(document_id, None, False, "no such document")
        if expected_task_id is not None and document.celery_task_id != expected_task_id:
            return SubmitResult(
                document_id, None, False, f"moved on: now {document.celery_status} with task {document.celery_task_id}"
            )
        try:
            stage, _entry = redrive_target(document.celery_status)
        except IllegalTransition as exc:
            return SubmitResult(document_id, None, False, str(exc))
        documents.restart(
            session,
            document=document,
            stage=stage,
            task_id=task_id,
            reason=reason,
            extra={"redrive_count": document.redrive_count + 1},
        )
    try:
        publish(stage=stage, document_id=document_id, task_id=task_id, settings=settings)
    except TransientError as exc:
        return SubmitResult(document_id, task_id, False, str(exc))
    return SubmitResult(document_id, task_id, True)


@dataclass(frozen=True)
class IngestResult:
    document_id: int
    document_uuid: str
    created: bool  # False: duplicate of an already registered document
    submitted: SubmitResult | None
    status: str
    name: str  # the name the document is registered under (a duplicate's: the first one's)


def ingest_file(
    *,
    path: Path,
    project_id: str | None = None,
    original_file_name: str | None = None,
    settings: Settings | None = None,
    storage: ObjectStorage | None = None,
    submit: bool = True,
    ocr_languages: str | None = None,
) -> IngestResult:
    """Store a file's bytes, register it (sha256 dedupe) and submit it.

    The original goes to the object store first under a content-addressed key, so a row never
    points at an object that is not there. A duplicate is recorded as such and not reprocessed,
    unless it was registered but never submitted (a crash in between), which is completed here.
    """
    settings = settings or get_settings()
    # Stored and shown, never used as a path or key: NUL and bytes that are not UTF-8 (both
    # refused by PostgreSQL), control and bidi characters are replaced, length is bounded.
    original_file_name = display_name(base_name(original_file_name or path.name))
    project_id = project_id or settings.project_id
    storage = storage or ObjectStorage(settings)
    size = path.stat().st_size
    sha256 = sha256_file(path)
    try:
        file_type, mime = sniff_file(path, filename=original_file_name)
    except PermanentError:
        file_type, mime = None, None  # the OCR stage gives the terminal status and the reason
    key = original_key(project_id=project_id, sha256=sha256)
    storage.put_file(key=key, path=path, content_type=mime or "application/octet-stream")
    with session_scope() as session:
        registration = documents.register_document(
            session,
            project_id=project_id,
            original_file_name=original_file_name,
            sha256=sha256,
            size_bytes=size,
            object_key=key,
            file_type=file_type,
            mime_type=mime,
            ocr_languages=ocr_languages,
        )
    document = registration.document
    assert document.id is not None, "a registered row has its primary key"
    result = None
    if submit and document.celery_status == Status.PENDING.value:
        result = submit_document(document_id=document.id, settings=settings)
    status = (
        document.celery_status
        if result is None
        else (Status.OCR_QUEUED.value if result.task_id else document.celery_status)
    )
    return IngestResult(
        document.id, str(document.document_uuid), registration.created, result, status, document.original_file_name
    )
