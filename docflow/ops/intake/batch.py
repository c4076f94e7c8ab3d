"""One batch of a sweep: ledger check, download (S3), hash, dedupe, upload, register, submit, record.

Per batch: one ledger query, one dedupe query, parallel downloads and uploads, one multi-row
insert, one status update and one broker connection for all publishes. An S3 object is downloaded
only after the ledger said it is new or changed, so a re-sweep of an unchanged prefix reads nothing.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Row

from docflow.core.errors import PermanentError, TransientError
from docflow.core.filetypes import HEAD_BYTES, detect_file_type
from docflow.core.settings import Settings
from docflow.core.status import Status
from docflow.core.storage import ObjectStorage, original_key
from docflow.ops.intake.fence import HashingReader, Refused, open_inside
from docflow.ops.intake.ledger import (
    documents_by_sha256,
    ledger_hits,
    ledger_row,
    never_ledgered,
    record_ledger,
    register_batch,
    submit_batch,
)
from docflow.ops.intake.outcomes import BatchResult, Candidate, FileOutcome, SweepOptions
from docflow.ops.submit import redrive_document

# Reads and uploads wait on the network and the disk, not the CPU.
HASH_THREADS = 4
TRANSFER_THREADS = 16


def _download(candidate: Candidate, *, folder: Path, index: int, storage: ObjectStorage) -> Candidate | FileOutcome:
    """Fetch an S3 candidate into ``folder`` under a derived name (never the object's)."""
    if candidate.bucket is None or candidate.object_key is None:
        return candidate
    local = folder / f"{index:08d}"
    try:
        storage.download(bucket=candidate.bucket, key=candidate.object_key, path=local)
    except PermanentError:
        return FileOutcome(candidate.shown, "skipped", "disappeared during the sweep")
    # The listing's mtime: the after-read check compares against it, as for a local file.
    os.utime(local, ns=(candidate.mtime_ns, candidate.mtime_ns))
    candidate.path = local
    return candidate


def _hash(candidate: Candidate) -> Candidate | FileOutcome:
    try:
        # Hash, head and the after-read stat all come from one fenced descriptor.
        with open_inside(candidate) as handle:
            digest, head = hashlib.sha256(), b""
            while block := handle.read(1 << 20):
                head = head or block[:HEAD_BYTES]
                digest.update(block)
            after = os.fstat(handle.fileno())
    except Refused as refused:
        return FileOutcome(candidate.shown, refused.outcome, refused.reason)
    except FileNotFoundError:
        return FileOutcome(candidate.shown, "skipped", "disappeared during the sweep")
    except OSError as exc:
        return FileOutcome(candidate.shown, "rejected", f"unreadable: {exc.strerror}")
    if (after.st_size, after.st_mtime_ns) != (candidate.size, candidate.mtime_ns):
        return FileOutcome(candidate.shown, "skipped", "changed while being read; taken by a later sweep")
    candidate.sha256 = digest.hexdigest()
    try:
        candidate.file_type, candidate.mime = detect_file_type(
            data_head=head, filename=Path(candidate.relative_path).name
        )
    except PermanentError as exc:
        return FileOutcome(candidate.shown, "rejected", str(exc))
    return candidate


def _upload(candidate: Candidate, *, project_id: str, storage: ObjectStorage) -> FileOutcome | None:
    """Store the original under its content key; an outcome when the file must not be taken.

    Streams from a fenced descriptor and re-hashes what was sent: if the bytes are not the ones
    hashed a moment ago (rewritten in place, truncated, swapped), the object is removed again,
    so a content-addressed key never holds other content. No HEAD first: content the database
    does not know is almost never in the bucket, and a PUT of the same key is idempotent.
    """
    if candidate.sha256 is None:
        raise ValueError("only a hashed candidate is uploaded")
    key = original_key(project_id=project_id, sha256=candidate.sha256)
    try:
        with open_inside(candidate) as handle:
            reader = HashingReader(handle)
            try:
                storage.put_stream(
                    key=key,
                    stream=reader,
                    length=candidate.size,
                    content_type=candidate.mime or "application/octet-stream",
                )
            except TransientError:
                # The uploader ran out of bytes because the file shrank (not the store failing).
                if os.fstat(handle.fileno()).st_size < candidate.size:
                    return FileOutcome(candidate.shown, "skipped", "changed while being read; taken by a later sweep")
                raise
    except Refused as refused:
        return FileOutcome(candidate.shown, refused.outcome, refused.reason)
    except FileNotFoundError:
        return FileOutcome(candidate.shown, "skipped", "disappeared during the sweep")
    if reader.digest.hexdigest() != candidate.sha256:
        storage.remove(key=key)
        return FileOutcome(candidate.shown, "skipped", "changed while being read; taken by a later sweep")
    return None


def process_batch(
    batch: list[Candidate],
    *,
    options: SweepOptions,
    settings: Settings,
    storage: ObjectStorage,
    seen: dict[str, str] | None = None,
) -> BatchResult:
    """Ledger check, download, hash, dedupe, upload, register, submit and record one batch.

    ``seen`` (sha256 → name) is what earlier batches of this sweep took: within-sweep dedupe,
    which matters for dry runs, where the database cannot catch a second copy because nothing was
    registered. It is not modified; what this batch took comes back in ``BatchResult.taken``.
    Idempotent: a retried batch finds its files in the ledger or its content registered.
    """
    seen = dict(seen or {})
    outcomes: list[FileOutcome] = []
    already = ledger_hits(options.source, batch)
    outcomes += [
        FileOutcome(c.shown, "skipped", "already swept (unchanged since)") for c in batch if c.relative_path in already
    ]
    todo = [c for c in batch if c.relative_path not in already]
    with tempfile.TemporaryDirectory(prefix="docflow-intake-") as tmp:
        with concurrent.futures.ThreadPoolExecutor(TRANSFER_THREADS) as pool:
            fetched = list(
                pool.map(
                    lambda item: _download(item[1], folder=Path(tmp), index=item[0], storage=storage), enumerate(todo)
                )
            )
        outcomes += [f for f in fetched if isinstance(f, FileOutcome)]
        local = [c for c in fetched if isinstance(c, Candidate)]
        with concurrent.futures.ThreadPoolExecutor(HASH_THREADS) as pool:
            hashed = list(pool.map(_hash, local))
        ready = [h for h in hashed if isinstance(h, Candidate)]
        outcomes += [h for h in hashed if isinstance(h, FileOutcome)]
        # Rejections go into the ledger under the file's exact identity (never its display name).
        rejected = [
            (c, h.reason or "")
            for c, h in zip(local, hashed, strict=True)
            if isinstance(h, FileOutcome) and h.outcome == "rejected"
        ]
        sorted_ = _sort_by_content(ready, project_id=options.project_id, seen=seen)
        taken = {c.sha256: c.shown for c in [*sorted_.fresh.values(), *sorted_.resumed] if c.sha256}
        if options.dry_run:
            outcomes += [FileOutcome(c.shown, "new", "dry run: would be registered") for c in sorted_.fresh.values()]
            outcomes += [
                FileOutcome(c.shown, "new", "dry run: would be re-sent (registered by an interrupted sweep)")
                for c in sorted_.resumed
            ]
            outcomes += [FileOutcome(c.shown, "duplicate", reason) for c, reason in sorted_.duplicates]
            return BatchResult(outcomes, taken)
        outcomes += _store(sorted_, rejected, project_id=options.project_id, storage=storage)
    outcomes += _register_and_record(sorted_, rejected, ready, options=options, settings=settings)
    return BatchResult(outcomes, taken)


@dataclass
class _Sorted:
    """A batch's readable files sorted by what their content means for the project."""

    fresh: dict[str, Candidate]  # sha256 → the first file with that content: register it
    resumed: list[Candidate]  # registered by a sweep that died before publishing: re-send
    duplicates: list[tuple[Candidate, str]]  # content already registered, or seen earlier in this sweep
    known: dict[str, Row]  # the project's rows for the batch's content, before this batch
    unsubmitted: set[str]  # registered but never submitted: finish them as if new


def _sort_by_content(ready: list[Candidate], *, project_id: str, seen: dict[str, str]) -> _Sorted:
    """Dedupe against the database and within the sweep (the same bytes twice in the folder)."""
    known = documents_by_sha256(project_id, [c.sha256 for c in ready if c.sha256])
    # Registered but never submitted: an earlier sweep died between the insert and the publish.
    # Those rows are finished now, as if new (nothing else would ever submit them).
    unsubmitted = {sha for sha, row in known.items() if row.celery_status == Status.PENDING.value}
    # Committed as queued but never recorded in the ledger: an earlier sweep died between its
    # commit and its ledger write, so its publish may never have happened. Re-sent now (new task
    # id, so a message that did go out becomes a no-op) instead of waiting for reconcile's grace.
    resumable = never_ledgered(
        {row.id: sha for sha, row in known.items() if row.celery_status == Status.OCR_QUEUED.value}
    )
    result = _Sorted({}, [], [], known, unsubmitted)
    for candidate in ready:
        sha = candidate.sha256 or ""
        if sha in resumable and sha not in seen:
            result.resumed.append(candidate)
            seen[sha] = candidate.shown
        elif sha in known and sha not in unsubmitted:
            result.duplicates.append((candidate, "same content as an already registered document"))
        elif sha in seen:
            result.duplicates.append((candidate, f"same content as {seen[sha]} in this sweep"))
        else:
            result.fresh[sha] = candidate
            seen[sha] = candidate.shown
    return result


def _store(
    sorted_: _Sorted, rejected: list[tuple[Candidate, str]], *, project_id: str, storage: ObjectStorage
) -> list[FileOutcome]:
    """Upload the fresh files; a file that cannot be taken is dropped from ``fresh`` with its outcome."""

    def upload(candidate: Candidate) -> FileOutcome | None:
        return _upload(candidate, project_id=project_id, storage=storage)

    outcomes: list[FileOutcome] = []
    with concurrent.futures.ThreadPoolExecutor(TRANSFER_THREADS) as pool:
        refused = dict(zip(list(sorted_.fresh), pool.map(upload, sorted_.fresh.values()), strict=True))
    for sha, outcome in refused.items():
        if outcome is not None:  # not registered; a skipped file is looked at again next sweep
            outcomes.append(outcome)
            if outcome.outcome == "rejected":
                rejected.append((sorted_.fresh[sha], outcome.reason or ""))
            del sorted_.fresh[sha]
    return outcomes


def _register_and_record(
    sorted_: _Sorted,
    rejected: list[tuple[Candidate, str]],
    ready: list[Candidate],
    *,
    options: SweepOptions,
    settings: Settings,
) -> list[FileOutcome]:
    """Register and submit the fresh files, re-send the resumed ones, and write the ledger."""
    registered = register_batch(
        list(sorted_.fresh.values()), project_id=options.project_id, ocr_languages=options.ocr_languages
    )
    for sha in sorted_.unsubmitted & set(registered):
        registered[sha] = (registered[sha][0], True)
    task_ids = submit_batch([doc_id for doc_id, created in registered.values() if created], settings=settings)

    outcomes: list[FileOutcome] = []
    ledger: list[dict[str, object]] = []
    rows = documents_by_sha256(options.project_id, [c.sha256 for c in ready if c.sha256])
    for sha, candidate in sorted_.fresh.items():
        doc_id, created = registered[sha]
        row = rows[sha]
        if created:
            # What this sweep did (queued it), not a re-read a fast worker may already have moved on.
            status = Status.OCR_QUEUED.value if doc_id in task_ids else row.celery_status
            outcomes.append(
                FileOutcome(candidate.shown, "new", None, str(row.document_uuid), doc_id, task_ids.get(doc_id), status)
            )
        else:  # lost a race with a concurrent sweep: the other one registered it
            outcomes.append(
                FileOutcome(
                    candidate.shown,
                    "duplicate",
                    "registered concurrently by another sweep",
                    str(row.document_uuid),
                    doc_id,
                    None,
                    row.celery_status,
                )
            )
        ledger.append(ledger_row(options.source, candidate, "new" if created else "duplicate", doc_id))
    for candidate in sorted_.resumed:
        row = sorted_.known[candidate.sha256 or ""]
        result = redrive_document(
            document_id=row.id,
            expected_task_id=row.celery_task_id,
            reason="intake sweep interrupted before it finished this file; re-sent",
            settings=settings,
        )
        status = Status.OCR_QUEUED.value if result.success else rows[candidate.sha256 or ""].celery_status
        outcomes.append(
            FileOutcome(
                candidate.shown,
                "new",
                "resumed: registered by an interrupted sweep",
                str(row.document_uuid),
                row.id,
                result.task_id,
                status,
            )
        )
        ledger.append(ledger_row(options.source, candidate, "new", row.id))
    for candidate, reason in sorted_.duplicates:
        found = rows.get(candidate.sha256 or "")
        outcomes.append(
            FileOutcome(
                candidate.shown,
                "duplicate",
                reason,
                str(found.document_uuid) if found else None,
                found.id if found else None,
                None,
                found.celery_status if found else None,
            )
        )
        ledger.append(ledger_row(options.source, candidate, "duplicate", found.id if found else None, reason))
    for candidate, reason in rejected:
        ledger.append(ledger_row(options.source, candidate, "rejected", None, reason))
    record_ledger(ledger)
    return outcomes
