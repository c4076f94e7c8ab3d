"""Reprocess decides on the row as it is under its lock, never on the row as it was selected.

A stage can move a document between the moment reprocess selects it and the moment it locks it.
These tests make that happen every time (the status is moved in another transaction right before
the lock is taken) instead of hoping a worker does it at the right millisecond.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from docflow.core import documents
from docflow.core.db import session_scope
from docflow.core.status import Stage
from docflow.ops.audit import Actor
from docflow.ops.lifecycle import reprocess as reprocess_module
from docflow.ops.lifecycle.reprocess import reprocess
from docflow.ops.lifecycle.selection import Selection

pytestmark = [pytest.mark.postgres, pytest.mark.services]


def _document(project_id: str, *, status: str) -> int:
    with session_scope() as session:
        registered = documents.register_document(
            session,
            project_id=project_id,
            original_file_name="raced.txt",
            sha256=uuid.uuid4().hex * 2,
            size_bytes=10,
            object_key="originals/raced",
        )
        session.execute(
            text(
                "UPDATE source_documents SET celery_status = :s, ocr_completed_at = now(), "
                "text_completed_at = now(), entity_completed_at = now() WHERE id = :id"
            ),
            {"s": status, "id": registered.document.id},
        )
        return registered.document.id


def _status_moves_before_the_lock(monkeypatch, *, to: str) -> None:
    """A stage commits a new status for the document right before reprocess locks it."""
    real_lock = documents.lock_document

    def lock_after_a_stage_moved_it(session, *, document_id):
        with session_scope() as other:
            other.execute(
                text("UPDATE source_documents SET celery_status = :s WHERE id = :id"), {"s": to, "id": document_id}
            )
        return real_lock(session, document_id=document_id)

    monkeypatch.setattr(reprocess_module.documents, "lock_document", lock_after_a_stage_moved_it)


@pytest.fixture
def published(monkeypatch) -> list[dict]:
    """What reprocess publishes, kept here: these rows have no stored original for a worker to read."""
    sent: list[dict] = []
    monkeypatch.setattr(
        reprocess_module, "publish_many", lambda *, stage, task_ids, settings: sent.append(dict(task_ids))
    )
    return sent


def test_a_forced_reprocess_wins_when_a_stage_finishes_at_that_moment(stack, project_id, monkeypatch, published):
    # GIVEN a document in flight, selected while its graph stage runs
    document_id = _document(project_id, status="graph_processing")
    # AND the stage completes between the selection and the lock
    _status_moves_before_the_lock(monkeypatch, to="graph_complete")
    # WHEN the operator forces a reprocess from ocr
    report = reprocess(
        Selection(documents=(str(document_id),)),
        from_stage=Stage.OCR,
        settings=stack,
        requested_by=Actor("test"),
        force=True,
    )
    # THEN it is queued (not refused), from the status the row had when it was locked
    (outcome,) = report.outcomes
    assert outcome.action == "queued", outcome
    assert outcome.status_before == "graph_complete"
    assert published == [{document_id: outcome.task_id}]
    with session_scope() as session:
        row = session.execute(
            text("SELECT celery_status, celery_task_id FROM source_documents WHERE id = :id"), {"id": document_id}
        ).one()
    assert (row.celery_status, row.celery_task_id) == ("ocr_queued", outcome.task_id)


def test_an_unforced_reprocess_is_refused_for_the_status_the_document_has_now(
    stack, project_id, monkeypatch, published
):
    # GIVEN a finished document, selected while finished
    document_id = _document(project_id, status="graph_complete")
    # AND someone else restarts it between the selection and the lock
    _status_moves_before_the_lock(monkeypatch, to="ocr_queued")
    # WHEN it is reprocessed without force
    report = reprocess(
        Selection(documents=(str(document_id),)), from_stage=Stage.TEXT, settings=stack, requested_by=Actor("test")
    )
    # THEN it is refused because it is in flight now, and nothing is published
    (outcome,) = report.outcomes
    assert outcome.action == "refused" and "in flight (ocr_queued)" in (outcome.reason or ""), outcome
    assert published == [{}]
