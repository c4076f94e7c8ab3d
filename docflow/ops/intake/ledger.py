"""The intake's database side: the ledger of what each sweep did with each file, dedupe by content,
batch registration and batch submission (commit-then-publish)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Row, tuple_
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from docflow.core import documents
from docflow.core.broker import new_task_id, publish_many
from docflow.core.db import insert_many, session_scope
from docflow.core.errors import TransientError
from docflow.core.models import IntakeFile, SourceDocument, table_of
from docflow.core.names import display_name
from docflow.core.settings import Settings
from docflow.core.status import Stage, Status
from docflow.core.storage import original_key
from docflow.ops.intake.outcomes import Candidate

log = logging.getLogger(__name__)
_DOCS = table_of(SourceDocument)


def ledger_hits(source: str, batch: list[Candidate]) -> set[str]:
    """The relative paths of the batch whose ledger row still matches their size and mtime."""
    keys = [(source, c.relative_path) for c in batch]
    with session_scope() as session:
        rows = session.execute(
            select(IntakeFile.relative_path, IntakeFile.size_bytes, IntakeFile.mtime_ns).where(
                tuple_(IntakeFile.source, IntakeFile.relative_path).in_(keys)
            )
        ).all()
    seen = {path: (size, mtime) for path, size, mtime in rows}
    return {c.relative_path for c in batch if seen.get(c.relative_path) == (c.size, c.mtime_ns)}


def ledger_row(
    source: str, candidate: Candidate, outcome: str, document_id: int | None, reason: str | None = None
) -> dict:
    return dict(
        source=source,
        relative_path=candidate.relative_path,
        size_bytes=candidate.size,
        mtime_ns=candidate.mtime_ns,
        sha256=candidate.sha256,
        document_id=document_id,
        outcome=outcome,
        reason=reason,
    )


def record_ledger(rows: list[dict]) -> None:
    if not rows:
        return
    statement = insert(table_of(IntakeFile))
    with session_scope() as session:
        insert_many(
            session,
            statement.on_conflict_do_update(
                constraint="uq_intake_files_source_path",
                set_={
                    name: statement.excluded[name]
                    for name in ("size_bytes", "mtime_ns", "sha256", "document_id", "outcome", "reason")
                },
            ),
            rows,
        )


def documents_by_sha256(project_id: str, shas: list[str]) -> dict[str, Row[Any]]:
    """sha256 → (sha256, id, document_uuid, celery_status, celery_task_id) of the project's documents."""
    with session_scope() as session:
        rows = session.execute(
            core_select(
                _DOCS.c.sha256, _DOCS.c.id, _DOCS.c.document_uuid, _DOCS.c.celery_status, _DOCS.c.celery_task_id
            ).where(_DOCS.c.project_id == project_id, _DOCS.c.sha256.in_(shas))
        ).all()
    return {row.sha256: row for row in rows}


def never_ledgered(sha_by_id: dict[int, str]) -> set[str]:
    """The sha256s of documents that no ``intake_files`` row points at (from any source)."""
    if not sha_by_id:
        return set()
    with session_scope() as session:
        ledgered = set(
            session.execute(
                select(IntakeFile.document_id).where(col(IntakeFile.document_id).in_(list(sha_by_id)))
            ).scalars()
        )
    return {sha for doc_id, sha in sha_by_id.items() if doc_id not in ledgered}


def register_batch(
    candidates: list[Candidate], *, project_id: str, ocr_languages: str | None = None
) -> dict[str, tuple[int, bool]]:
    """One multi-row insert; returns ``{sha256: (document id, created)}``."""
    if not candidates:
        return {}
    rows = [
        dict(
            project_id=project_id,
            original_file_name=display_name(Path(c.relative_path).name),
            sha256=c.sha256,
            size_bytes=c.size,
            object_key=original_key(project_id=project_id, sha256=c.sha256 or ""),
            file_type=c.file_type,
            mime_type=c.mime,
            ocr_languages=ocr_languages,
        )
        for c in candidates
    ]
    with session_scope() as session:
        table = table_of(SourceDocument)
        inserted = {
            sha: doc_id
            for doc_id, sha in insert_many(
                session,
                insert(table)
                .on_conflict_do_nothing(constraint="uq_source_documents_project_sha256")
                .returning(table.c.id, table.c.sha256),
                rows,
            ).all()
        }
        existing = (
            {
                sha: doc_id
                for doc_id, sha in session.execute(
                    select(SourceDocument.id, SourceDocument.sha256).where(
                        SourceDocument.project_id == project_id,
                        col(SourceDocument.sha256).in_([c.sha256 for c in candidates if c.sha256 not in inserted]),
                    )
                ).all()
            }
            if len(inserted) < len(candidates)
            else {}
        )
    return {
        **{sha: (doc_id, False) for sha, doc_id in existing.items()},
        **{sha: (doc_id, True) for sha, doc_id in inserted.items()},
    }


def submit_batch(document_ids: list[int], *, settings: Settings) -> dict[int, str]:
    """Commit ``ocr_queued`` + task ids for the batch, then publish every message on one connection.

    Commit-then-publish, as for single documents: a failed publish leaves rows reconcile re-drives
    (and the next sweep of the same source resumes them: see :mod:`docflow.ops.intake.batch`).
    """
    if not document_ids:
        return {}
    task_ids = {doc_id: new_task_id() for doc_id in document_ids}
    with session_scope() as session:
        moved = documents.transition_many(session, to=Status.OCR_QUEUED, task_ids=task_ids)
        documents.record_queued_many(session, stage=Stage.OCR, task_ids={d: task_ids[d] for d in moved})
    try:
        publish_many(stage=Stage.OCR, task_ids={doc_id: task_ids[doc_id] for doc_id in moved}, settings=settings)
    except TransientError as exc:
        log.error("publishing a batch of %d failed; reconcile or the next sweep re-drives it: %s", len(moved), exc)
    return {doc_id: task_ids[doc_id] for doc_id in moved}
