"""ZIP archives on the real stack and real workers (issue 26): each member a document of its own,
linked to the archive's document; reprocessing and deleting the archive take its members along."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select

from docflow.core.db import session_scope
from docflow.core.models import Chunk, DocumentDeletion, SourceDocument, StageRun
from docflow.core.status import Stage
from docflow.ops.lifecycle.delete import delete_documents
from docflow.ops.lifecycle.export import export_document
from docflow.ops.lifecycle.reprocess import reprocess
from docflow.ops.lifecycle.selection import Selection
from docflow.ops.progress import wait_for_documents
from docflow.ops.submit import ingest_file
from docflow.ops.summaries import document_detail
from tests.fixtures.everyday import ARCHIVE_MEMBERS, freight_archive

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow]

TIMEOUT_S = 300


def _members(archive_id: int) -> list[SourceDocument]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(SourceDocument)
                .where(SourceDocument.parent_document_id == archive_id)
                .order_by(SourceDocument.id)
            )
        )


def _members_done(archive_id: int, *, count: int) -> dict[int, str]:
    """Wait (with a deadline) until the archive registered ``count`` members and each is terminal."""
    deadline = time.monotonic() + TIMEOUT_S
    while len(members := _members(archive_id)) < count:
        assert time.monotonic() < deadline, f"archive {archive_id} registered {len(members)} of {count} members"
        time.sleep(0.5)
    return wait_for_documents([m.id for m in members if m.id is not None], timeout_s=TIMEOUT_S)


@pytest.fixture
def archive(workers, tmp_path) -> tuple[str, int]:
    """A fresh project holding the freight archive, processed with its members to the end."""
    project = f"zip-{uuid.uuid4().hex[:10]}"
    path = tmp_path / "freight.zip"
    path.write_bytes(freight_archive())
    archive_id = ingest_file(path=path, project_id=project).document_id
    assert wait_for_documents([archive_id], timeout_s=TIMEOUT_S) == {archive_id: "graph_complete"}
    assert set(_members_done(archive_id, count=len(ARCHIVE_MEMBERS)).values()) == {"graph_complete"}
    return project, archive_id


def test_an_archives_members_become_documents_linked_to_it(archive):
    project, archive_id = archive
    # GIVEN an archive of three documents and a program WHEN it was processed
    members = _members(archive_id)
    # THEN each document in it is a document of its own in the same project, linked to the archive
    assert sorted((m.member_path, m.file_type) for m in members) == sorted(
        (path, file_type) for path, (_writer, file_type) in ARCHIVE_MEMBERS.items()
    )
    assert {m.project_id for m in members} == {project}
    assert {m.original_file_name for m in members} == {path.rsplit("/", 1)[-1] for path in ARCHIVE_MEMBERS}
    # AND the program was not registered; the archive's own text names every file, the program with why
    with session_scope() as session:
        listing = "\n".join(session.scalars(select(Chunk.text).where(Chunk.document_id == archive_id)))
    assert all(path in listing for path in ARCHIVE_MEMBERS)
    assert "tools/setup.exe (not extracted: unsupported file type" in listing
    # AND the picture-only slide was read by OCR
    slide = next(m for m in members if m.file_type == "pptx")
    with session_scope() as session:
        assert "Northwind" in " ".join(session.scalars(select(Chunk.text).where(Chunk.document_id == slide.id)))
    # AND the document detail and the export show the parent and the members
    detail = document_detail(str(archive_id))
    assert detail is not None
    assert sorted(m["id"] for m in detail["members"]) == sorted(m.id for m in members)
    member_detail = document_detail(str(members[0].id))
    assert member_detail is not None and member_detail["parent"]["id"] == archive_id
    record = export_document(str(members[0].id))
    assert record is not None
    assert record["document"]["parent"]["id"] == archive_id
    assert record["document"]["parent"]["member_path"] == members[0].member_path


def test_reprocessing_an_archive_reprocesses_its_members_once(archive, workers):
    _project, archive_id = archive
    members = {m.id for m in _members(archive_id)}
    # WHEN the archive is reprocessed from the OCR stage
    report = reprocess(
        Selection(documents=(str(archive_id),)), from_stage=Stage.OCR, settings=workers, requested_by="test"
    )
    # THEN its members are reprocessed with it, from the same stage
    assert {o.document_id for o in report.outcomes if o.action == "queued"} == {archive_id, *members}
    final = wait_for_documents([archive_id, *members], timeout_s=TIMEOUT_S)
    assert set(final.values()) == {"graph_complete"}
    # AND the archive's second run registered nothing new: each member once, each OCR'd twice in all
    assert {m.id for m in _members(archive_id)} == members
    with session_scope() as session:
        for member in members:
            # Two OCR tasks succeeded for it (the first run's and the reprocess'), whatever retries they took.
            succeeded = session.scalars(
                select(StageRun.celery_task_id).where(
                    StageRun.document_id == member,
                    StageRun.stage == "ocr",
                    StageRun.attempt >= 0,
                    StageRun.outcome == "succeeded",
                )
            ).all()
            assert len(set(succeeded)) == 2, member


def test_deleting_an_archive_deletes_its_members(archive, workers):
    _project, archive_id = archive
    members = {m.id for m in _members(archive_id)}
    # WHEN the archive is deleted
    report = delete_documents(Selection(documents=(str(archive_id),)), settings=workers, deleted_by="test")
    # THEN it and every member are deleted, members first, each with its audit row
    deleted = [o.document_id for o in report.outcomes if o.action == "deleted"]
    assert set(deleted) == {archive_id, *members} and deleted[-1] == archive_id
    with session_scope() as session:
        assert (
            session.scalars(select(SourceDocument.id).where(SourceDocument.id.in_([archive_id, *members]))).all() == []
        )
        audited = session.scalars(
            select(DocumentDeletion.document_id).where(DocumentDeletion.document_id.in_([archive_id, *members]))
        )
        assert set(audited) == {archive_id, *members}
