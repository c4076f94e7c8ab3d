"""An archive's members become documents: stored, registered under the archive, submitted.

Called by the OCR stage of an archive document (:func:`tasks.work.ocr_work`) with the files the
extraction left in its members folder. The guarantees are intake's:

* **Stored content-addressed first.** Each member's bytes go to the object store under its sha256
  key before any row names them (a second upload of the same bytes is a no-op).
* **Registered once.** The dedupe key is intake's, ``(project_id, sha256)``: a re-run of the
  archive's stage (a redelivery, a reprocess) finds its members registered and neither registers
  nor submits them again. A member whose bytes were already registered on their own stays as it was
  (it is not claimed by the archive). New rows carry the archive's id and their path in it.
* **Commit-then-publish.** The members are registered and moved to ``ocr_queued`` with their task
  ids inside the archive stage's own transaction (which holds the archive's row for its task, so a
  deleted or reprocessed archive registers nothing), and published after the commit; a lost publish
  leaves rows that say queued, which reconcile re-drives like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from docflow.core import documents
from docflow.core.broker import new_task_id, publish_many
from docflow.core.db import session_scope
from docflow.core.errors import TransientError
from docflow.core.filetypes import detect_file_type
from docflow.core.models import SourceDocument, table_of
from docflow.core.names import display_name
from docflow.core.settings import Settings
from docflow.core.status import Stage, Status
from docflow.core.storage import ObjectStorage, original_key, sha256_file
from tasks.steps.extract.types import ArchiveMember

__all__ = ["StoredMember", "nesting_depth", "publish_members", "register_members", "store_members"]

log = logging.getLogger(__name__)
_DOCS = table_of(SourceDocument)


@dataclass(frozen=True)
class StoredMember:
    member: ArchiveMember
    sha256: str
    object_key: str
    mime: str


def nesting_depth(*, parent_document_id: int | None) -> int:
    """How many archives a document sits in (0: it came on its own, and nothing is read)."""
    depth, parent = 0, parent_document_id
    seen: set[int] = set()
    if parent is None:
        return 0
    with session_scope() as session:
        while parent is not None and parent not in seen:
            seen.add(parent)
            depth += 1
            parent = session.execute(
                select(_DOCS.c.parent_document_id).where(_DOCS.c.id == parent)
            ).scalar_one_or_none()
    return depth


def store_members(members: Sequence[ArchiveMember], *, project_id: str, settings: Settings) -> list[StoredMember]:
    """Upload each member's bytes under its content-addressed key (idempotent)."""
    storage = ObjectStorage(settings)
    stored = []
    for member in members:
        sha256 = sha256_file(member.path)
        key = original_key(project_id=project_id, sha256=sha256)
        with member.path.open("rb") as handle:
            _, mime = detect_file_type(data_head=handle.read(8192), filename=member.name)
        storage.put_file(key=key, path=member.path, content_type=mime)
        stored.append(StoredMember(member, sha256, key, mime))
    return stored


def register_members(
    session: Session, *, archive_id: int, project_id: str, ocr_languages: str | None, stored: Sequence[StoredMember]
) -> dict[int, str]:
    """Register the members under the archive and queue the new ones; document id -> task id.

    Run inside the archive stage's transaction, after ``hold_for_task``: the caller publishes the
    returned ids after its commit (:func:`publish_members`).
    """
    queued: dict[int, str] = {}
    for item in stored:
        registration = documents.register_document(
            session,
            project_id=project_id,
            original_file_name=display_name(item.member.name),
            sha256=item.sha256,
            size_bytes=item.member.size,
            object_key=item.object_key,
            file_type=item.member.file_type,
            mime_type=item.mime,
            ocr_languages=ocr_languages,
            parent_document_id=archive_id,
            member_path=item.member.member_path,
        )
        document = registration.document
        if document.id is not None and document.celery_status == Status.PENDING.value:
            queued[document.id] = new_task_id()
    moved = documents.transition_many(session, to=Status.OCR_QUEUED, task_ids=queued)
    queued = {document_id: queued[document_id] for document_id in moved}
    documents.record_queued_many(session, stage=Stage.OCR, task_ids=queued)
    return queued


def publish_members(task_ids: dict[int, str], *, settings: Settings) -> None:
    """Publish the members' OCR messages (after the commit); a failure is left to reconcile."""
    try:
        publish_many(stage=Stage.OCR, task_ids=task_ids, settings=settings)
    except TransientError as exc:
        log.error(
            "archive members %s committed as ocr_queued but not published (reconcile re-drives): %s",
            sorted(task_ids),
            exc,
        )
