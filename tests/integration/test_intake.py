"""Intake sweeps on the real stack: accounting for every file, stable-file guard, ledger, dedupe."""

from __future__ import annotations

import io
import os
import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from docflow.core.db import session_scope
from docflow.core.models import SourceDocument
from docflow.ops import intake
from tests.support.intake import build_mixed_intake_folder

pytestmark = [pytest.mark.services]


def _sweep(root: Path, project_id: str, settings, **overrides) -> intake.SweepReport:
    options = intake.SweepOptions(source=str(root), project_id=project_id, stable_seconds=30, batch_size=3, **overrides)
    return intake.sweep(options, settings)


def _by_name(report: intake.SweepReport) -> dict[str, intake.FileOutcome]:
    return {f.name: f for f in report.files}


def test_a_sweep_accounts_for_every_file_and_a_resweep_is_a_noop(stack, sample_files, project_id, tmp_path):
    good, _bad = sample_files
    root = tmp_path / "intake"
    extra = build_mixed_intake_folder(root, good, tmp_path / "outside.txt")

    # WHEN the folder is swept (batches of 3, so several batches)
    report = _sweep(root, project_id, stack)
    files = _by_name(report)
    # THEN every sample is new and queued; the copy is a duplicate; bad files are rejected with reasons
    assert {name for name, f in files.items() if f.outcome == "new"} == set(good)
    assert all(files[name].status == "ocr_queued" and files[name].task_id for name in good)
    assert files["sub/copy of field notes.txt"].outcome == "duplicate"
    assert files["empty.pdf"].outcome == "rejected" and files["empty.pdf"].reason == "empty file: 0 bytes"
    assert files["spreadsheet.xyz"].outcome == "rejected" and "unsupported file type" in files["spreadsheet.xyz"].reason
    assert files["escape.txt"].outcome == "rejected" and "outside the intake" in files["escape.txt"].reason
    assert files[".DS_Store"].outcome == "skipped" and files["draft.txt.part"].outcome == "skipped"
    assert files["still_writing.txt"].outcome == "skipped" and "still changing" in files["still_writing.txt"].reason
    assert sum(report.counts().values()) == len(report.files) == len(list(root.rglob("*"))) - 1  # minus sub/
    with session_scope() as session:
        assert session.scalar(select(func.count()).where(SourceDocument.project_id == project_id)) == len(good)

    # WHEN swept again without changes THEN nothing new is registered or submitted
    again = _sweep(root, project_id, stack)
    assert again.counts()["new"] == 0
    assert {f.reason for f in again.files if f.name in good} == {"already swept (unchanged since)"}
    assert _by_name(again)["still_writing.txt"].outcome == "skipped"

    # WHEN the half-written file stopped changing long enough THEN a later sweep takes it
    past = time.time() - 120
    os.utime(extra["writing"], (past, past))
    later = _by_name(_sweep(root, project_id, stack))
    assert later["still_writing.txt"].outcome == "new"
    with session_scope() as session:
        assert session.scalar(select(func.count()).where(SourceDocument.project_id == project_id)) == len(good) + 1


def test_dry_run_registers_nothing(stack, sample_files, project_id, tmp_path):
    good, _bad = sample_files
    root = tmp_path / "intake"
    build_mixed_intake_folder(root, good, tmp_path / "outside.txt")
    report = _sweep(root, project_id, stack, dry_run=True)
    assert report.counts()["new"] == len(good)
    with session_scope() as session:
        assert session.scalar(select(func.count()).where(SourceDocument.project_id == project_id)) == 0
    # and a real sweep afterwards still takes everything
    assert _sweep(root, project_id, stack).counts()["new"] == len(good)


def test_s3_prefix_sweep_downloads_only_what_the_ledger_has_not_seen(stack, sample_files, project_id, monkeypatch):
    import urllib3

    from docflow.core.storage import ObjectStorage

    good, _bad = sample_files
    storage = ObjectStorage(stack)
    storage.ensure_bucket()
    prefix = f"incoming/{project_id}/"
    for name, path in good.items():
        storage.client.fput_object(stack.s3_bucket, prefix + name, str(path))
    source = f"s3://{stack.s3_bucket}/{prefix}"
    # Every object GET the S3 client sends (listings are GETs on the bucket, with a query: not counted).
    object_gets: list[str] = []
    send = urllib3.PoolManager.urlopen

    def counting(self, method, url, *args, **kwargs):
        if method == "GET" and f"/{prefix}" in url and "list-type=" not in url:
            object_gets.append(url)
        return send(self, method, url, *args, **kwargs)

    monkeypatch.setattr(urllib3.PoolManager, "urlopen", counting)
    options = intake.SweepOptions(source=source, project_id=project_id, stable_seconds=0, batch_size=2)
    # WHEN the prefix is swept (no stable delay: S3 objects appear whole)
    report = intake.sweep(options, stack)
    # THEN every object is new, and each was downloaded exactly once
    assert report.counts()["new"] == len(good)
    assert len(object_gets) == len(good) and len(set(object_gets)) == len(good)
    # WHEN the unchanged prefix is swept again
    object_gets.clear()
    again = intake.sweep(options, stack)
    # THEN nothing is new and not a single object is downloaded: the ledger answers from the listing
    assert again.counts() == {"new": 0, "duplicate": 0, "skipped": len(good), "rejected": 0}
    assert object_gets == []
    # AND a changed object is the only one read again
    changed = next(iter(good))
    storage.client.put_object(stack.s3_bucket, prefix + changed, io.BytesIO(b"Maria Gonzalez, Rotterdam."), 26)
    third = intake.sweep(options, stack)
    assert [f.name for f in third.files if f.outcome == "new"] == [changed]
    assert len(object_gets) == 1 and object_gets[0].endswith(changed.replace(" ", "%20"))


class _ProcessDied(BaseException):
    """Stands in for SIGKILL: not an ``Exception``, so no handler in the sweep can swallow it."""


def test_a_sweep_that_died_between_commit_and_publish_is_finished_by_the_next_sweep(
    workers, sample_files, project_id, tmp_path, monkeypatch
):
    from docflow.core.broker import get_app
    from docflow.ops.progress import wait_for_documents

    good, _bad = sample_files
    root = tmp_path / "intake"
    root.mkdir()
    for name in ("field_notes.txt", "partner_email.eml"):
        shutil.copy(good[name], root / name)
    past = time.time() - 3600
    for path in root.iterdir():
        os.utime(path, (past, past))

    # GIVEN a sweep whose process dies after committing its batch as ocr_queued, before any publish
    def die(*_args, **_kwargs):
        raise _ProcessDied

    with monkeypatch.context() as patch:
        patch.setattr(get_app(), "producer_or_acquire", die)
        with pytest.raises(_ProcessDied):
            _sweep(root, project_id, workers)
    with session_scope() as session:
        orphans = {
            d.id: d.celery_task_id
            for d in session.execute(select(SourceDocument).where(SourceDocument.project_id == project_id)).scalars()
        }
        statuses = set(
            session.execute(
                select(SourceDocument.celery_status).where(SourceDocument.project_id == project_id)
            ).scalars()
        )
    assert len(orphans) == 2 and statuses == {"ocr_queued"}

    # WHEN intake sweeps the folder again
    report = _sweep(root, project_id, workers)

    # THEN both files are resumed under new task ids (the unsent ones can never run) ...
    files = _by_name(report)
    assert {f.outcome for f in files.values()} == {"new"}
    assert all(f.reason == "resumed: registered by an interrupted sweep" for f in files.values())
    assert all(f.task_id and f.task_id != orphans[f.document_id] for f in files.values())
    # ... and they go all the way, without waiting for reconcile
    assert set(wait_for_documents(list(orphans), timeout_s=180).values()) == {"graph_complete"}
    # AND a third sweep is a no-op
    assert {f.reason for f in _sweep(root, project_id, workers).files} == {"already swept (unchanged since)"}
