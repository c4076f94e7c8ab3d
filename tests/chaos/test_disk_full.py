"""A disk that fills up under the object store: clear errors, no corruption, recovery when space returns.

(The same fault under Redis's AOF is in test_network_faults.py, beside the client deadlines it
shares.) SeaweedFS answers a write on a full disk with an S3 ``InternalError`` at once and keeps
serving reads. Once a write has failed in its filer's metadata store (LevelDB), the filer keeps
that error until it is restarted, even after space returns (measured: still refused 180 s after),
so the operator's step after freeing space is to restart the store; writes come back at its next
disk check. Nothing in docflow writes to the store after intake, so documents already stored go on
being processed while intake is refused.
"""

from __future__ import annotations

import hashlib
import io
import re
import time

import pytest

from docflow import services
from tests.support.chaos import settle
from tests.support.intake import settled_intake_folder
from tests.support.pipeline import wait_terminal
from tests.support.small_disk import fill, small_filesystem

pytestmark = [pytest.mark.chaos, pytest.mark.services, pytest.mark.slow]


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_object_store_disk_full_refuses_intake_clearly_and_recovers_when_space_returns(
    stack, chaos_workers, chaos_files, clean_reference, project, tmp_path, sample_files
):
    from sqlalchemy import text

    from docflow.core.db import session_scope
    from docflow.core.errors import TransientError
    from docflow.core.storage import ObjectStorage, original_key
    from docflow.ops import intake
    from docflow.ops.submit import ingest_file
    from docflow.ops.verify import check_object_store

    folder = settled_intake_folder(tmp_path / "intake", chaos_files.small)
    options = intake.SweepOptions(source=str(folder), project_id=project, stable_seconds=5)
    # Documents too big for what a full disk still holds in its files' last pages (a few KB each),
    # swept into a project of their own while the disk is full: every one must be refused.
    good, _bad = sample_files
    refused = [good[name] for name in ("scanned_letter.pdf", "receipt_scan.png", "board_minutes.docx")]
    refused_folder = settled_intake_folder(tmp_path / "refused", refused)
    refused_options = intake.SweepOptions(source=str(refused_folder), project_id=f"{project}-full", stable_seconds=5)
    s3 = services.ObjectStore(stack)
    # GIVEN the object store with its data on a small filesystem of its own, workers running, and
    # a six-page scan already stored and in the pipeline
    with small_filesystem(s3, s3.dir / "data", tmp_path / "s3-data") as data:
        chaos_workers.start(concurrency=2)
        scan = ingest_file(path=chaos_files.scan, project_id=project)
        assert scan.document_id is not None and scan.submitted is not None and scan.submitted.success
        # WHEN the filesystem fills up
        filled = fill(data / "filler")
        # The last pages of the store's files may still hold a few KB (a small object can land
        # there): small uploads until the store refuses one, so the disk is full for it too.
        storage = ObjectStorage(stack)
        for n in range(2000):
            try:
                storage.put_stream(key=f"ballast/{project}/{n}", stream=io.BytesIO(b"x" * 512), length=512)
            except TransientError:
                break
        # THEN a sweep is refused with the store's own words and registers nothing; so is a
        # single submission (the HTTP API's and the CLI's path)
        with pytest.raises(TransientError, match=r"object store: upload: InternalError \("):
            intake.sweep(refused_options, stack)
        with pytest.raises(TransientError, match="object store: upload: InternalError"):
            ingest_file(path=refused[0], project_id=refused_options.project_id)
        # AND `docflow verify` says the store refuses writes (listing and reading still work)
        refusing = check_object_store(stack)
        assert not refusing.ok and "refuses writes" in refusing.detail, refusing
        # AND it says why: the disk under the store is full
        assert re.search(r"; disk [\d.]+ K?B free of", refusing.detail), refusing
        # AND the scan stored before goes on: reads work on a full disk
        assert wait_terminal([scan.document_id]) == {scan.document_id: "graph_complete"}
        with session_scope() as session:
            registered = session.execute(
                text("SELECT id FROM source_documents WHERE project_id IN (:p, :full)"),
                {"p": project, "full": refused_options.project_id},
            ).scalars()
            assert list(registered) == [scan.document_id]
        # WHEN space returns and the operator restarts the object store (README, "When a disk
        # fills up": SeaweedFS's filer keeps its metadata store's write error until restarted)
        (data / "filler").unlink()
        freed = time.monotonic()
        s3.stop()
        s3.start()
        # THEN writes come back (the volumes are marked writable at SeaweedFS's next disk check),
        # a later sweep takes every file, and everything completes as in a clean run
        while True:
            try:
                report = intake.sweep(options, stack)
                break
            except TransientError:
                if time.monotonic() - freed > 180:
                    raise
                time.sleep(2)
        writable_s = time.monotonic() - freed
        # AND verify says it takes writes, and may create new volumes although less than a volume's
        # size is free (left to itself the store allowed none then, and stayed refusing)
        recovered = check_object_store(stack)
        assert recovered.ok, recovered
        slots = re.search(r"(\d+) more may be created", recovered.detail)
        assert slots and int(slots.group(1)) > 0, recovered
        assert report.counts()["new"] == len(chaos_files.small), report.counts()
        # AND the documents refused while the disk was full are taken by their next sweep
        retaken = intake.sweep(refused_options, stack)
        assert retaken.counts()["new"] == len(refused), retaken.counts()
        ids = [scan.document_id, *report.new_document_ids()]
        statuses = wait_terminal(ids)
        assert set(wait_terminal(retaken.new_document_ids()).values()) == {"graph_complete"}
        recovery_s = time.monotonic() - freed
        settle(
            "disk full under the object store (tmpfs)",
            settings=stack,
            project_id=project,
            ids=ids,
            clean=clean_reference,
            note=(
                f"filled with {filled / (1 << 20):.0f} MB; intake refused (InternalError from the store); "
                f"the stored scan completed meanwhile; store restarted, writes again {writable_s:.0f}s after "
                f"space returned; all complete {recovery_s:.1f}s after"
            ),
        )
        assert set(statuses.values()) == {"graph_complete"}
        # AND no original was corrupted: each reads back with the bytes it was stored with
        for path in chaos_files.all:
            sha = _sha256(path)
            copy = storage.get_to_file(key=original_key(project_id=project, sha256=sha), path=tmp_path / sha)
            assert _sha256(copy) == sha, path.name
