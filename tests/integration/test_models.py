"""The data model on real PostgreSQL: dedupe, compare-and-set transitions, natural keys."""

import concurrent.futures
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from docflow.core import claims, documents, results
from docflow.core.db import session_scope
from docflow.core.errors import IllegalTransition
from docflow.core.models import Chunk, SourceDocument, StageRun
from docflow.core.status import Stage, Status

pytestmark = [pytest.mark.postgres, pytest.mark.services]


def _register(project_id, sha="a" * 64, name="doc.pdf"):
    with session_scope() as session:
        return documents.register_document(
            session,
            project_id=project_id,
            original_file_name=name,
            sha256=sha,
            size_bytes=10,
            object_key=None,
        )


def test_registration_dedupes_by_project_and_sha256(stack, project_id):
    # GIVEN a registered document
    first = _register(project_id)
    # WHEN the same bytes are registered again in the same project, and in another project
    again = _register(project_id, name="copy.pdf")
    other = _register(f"{project_id}-other")
    # THEN the same project gets the same row back, the other project a new one
    assert first.created and not again.created and other.created
    assert again.document.id == first.document.id
    assert other.document.id != first.document.id
    assert first.document.celery_status == "pending"
    assert first.document.initial_processing_status == "pending"
    assert isinstance(first.document.document_uuid, uuid.UUID)


def test_concurrent_registration_creates_one_row(stack, project_id):
    # GIVEN eight threads registering the same bytes at once
    sha = uuid.uuid4().hex * 2
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: _register(project_id, sha=sha), range(8)))
    # THEN exactly one created it and all see the same row
    assert sum(o.created for o in outcomes) == 1
    assert len({o.document.id for o in outcomes}) == 1
    with session_scope() as session:
        assert session.scalar(select(func.count()).where(SourceDocument.sha256 == sha)) == 1


def test_transitions_are_enforced_in_the_database(stack, project_id):
    document_id = _register(project_id).document.id
    with session_scope() as session:
        row = documents.transition(session, document_id=document_id, to=Status.OCR_QUEUED, task_id="t-1")
    assert (row.celery_status, row.initial_processing_status, row.celery_task_id) == ("ocr_queued", "ocr_queued", "t-1")
    # WHEN an illegal transition is attempted THEN it raises and the row is unchanged
    with pytest.raises(IllegalTransition, match="ocr_queued → text_processing"), session_scope() as session:
        documents.transition(session, document_id=document_id, to=Status.TEXT_PROCESSING)
    with session_scope() as session:
        documents.transition(session, document_id=document_id, to=Status.OCR_PROCESSING)
        row = documents.transition(session, document_id=document_id, to=Status.OCR_COMPLETE)
    assert row.celery_status == "ocr_complete" and row.ocr_completed_at is not None
    assert row.initial_processing_status == "processing"


def test_a_transition_can_be_won_only_once(stack, project_id):
    # GIVEN a queued document and two racing workers trying to fail it from ocr_queued
    document_id = _register(project_id).document.id
    with session_scope() as session:
        documents.transition(session, document_id=document_id, to=Status.OCR_QUEUED)
        documents.transition(session, document_id=document_id, to=Status.OCR_PROCESSING)
        documents.transition(session, document_id=document_id, to=Status.OCR_COMPLETE)
    # WHEN completing OCR a second time THEN the compare-and-set refuses it
    with pytest.raises(IllegalTransition), session_scope() as session:
        documents.transition(session, document_id=document_id, to=Status.OCR_COMPLETE)


def test_stage_run_deliveries_are_counted_on_the_natural_key(stack, project_id):
    document_id = _register(project_id).document.id
    counts = []
    for _ in range(3):
        with session_scope() as session:
            task_id = "task-x" + project_id
            delivered = claims.record_deliveries(session, stage=Stage.OCR, deliveries=[(document_id, task_id, 0, "w1")])
            counts.append(delivered[(task_id, 0)])
    assert counts == [1, 2, 3]
    with session_scope() as session:
        assert session.scalar(select(func.count()).where(StageRun.document_id == document_id)) == 1


def test_chunks_are_unique_per_document_and_index(stack, project_id):
    from tasks.steps.chunking import Chunk as StepChunk

    document_id = _register(project_id).document.id
    chunks = [StepChunk(i, f"text {i}", 1, 1, i * 10, i * 10 + 6) for i in range(3)]
    # WHEN the same chunks are written twice, then a shorter run replaces them
    for _ in range(2):
        with session_scope() as session:
            results.replace_chunks(session, document_id=document_id, chunks=chunks)
    with session_scope() as session:
        results.replace_chunks(session, document_id=document_id, chunks=chunks[:2])
        stored = results.load_chunks(session, document_id=document_id)
    assert [c.chunk_index for c in stored] == [0, 1]
    # AND a raw duplicate insert is refused by the natural key
    with pytest.raises(IntegrityError), session_scope() as session:
        session.add(
            Chunk(
                document_id=document_id, chunk_index=0, text="dup", page_start=1, page_end=1, char_start=0, char_end=3
            )
        )
