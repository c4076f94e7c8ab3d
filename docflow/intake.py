"""Intake: find new files in a folder or an S3 prefix and hand them to the pipeline in batches.

Guarantees of a sweep:

* **Every file is accounted for** as ``new``, ``duplicate``, ``skipped`` or ``rejected`` with a
  reason — nothing is dropped silently.
* **Half-written files are never read.** A file is taken only once its mtime is older than the
  stable delay (its size and mtime stayed unchanged that long); it is stat-ed again after hashing
  and skipped if it changed meanwhile. Skipped files are looked at again by the next sweep.
* **Re-sweeps are no-ops.** Files are not moved: the ``intake_files`` ledger records what was
  done with each (source, relative path, size, mtime); an unchanged file is not even re-hashed.
  This also works for read-only folders and S3 prefixes, and loses nothing if the sweep dies.
* **The intake root is a fence.** Symlinks pointing outside the root, devices and FIFOs are
  rejected; nothing outside the root is ever opened. Every read (hashing, upload) opens the
  file without following a symlink and checks where the open descriptor really is, so a file
  swapped for a link after discovery is refused too; the uploaded bytes are re-hashed against
  the content key. Object keys come from the content hash, never from a filename.
* **Names are kept exactly, shown safely.** The ledger keys a file by its exact relative path
  (so NFC/NFD twins and long paths differing in the middle stay distinct files); reports and
  stored document names use :func:`display_name`.
* **Batched.** Per batch: one ledger query, one dedupe query, parallel uploads, one multi-row
  insert, one status update and one broker connection for all publishes.
* **Backpressure.** No new batch is enqueued while the stage queues already hold more than the
  limit; the remaining files are left (``skipped: backpressure``) for a later sweep.
"""

from __future__ import annotations

import concurrent.futures
import errno
import hashlib
import os
import re
import stat
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert

from docflow import documents
from docflow.db import insert_many, session_scope
from docflow.models import IntakeFile, SourceDocument
from docflow.settings import Settings
from docflow.status import Stage, Status
from docflow.storage import ObjectStorage, original_key
from docflow.submit import redrive_document

SUPPORTED_EXTENSIONS = ("pdf", "png", "jpg", "jpeg", "tif", "tiff", "bmp", "gif", "webp", "docx", "eml", "txt")
JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini", "icon\r"}
JUNK_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", ".swx", "~", ".lock")
# C0/C1 controls, and the bidirectional overrides/isolates/marks that make "invoice\u202etxt.exe"
# display as "invoiceexe.txt" in a UI or terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def storable_path(name: str) -> str:
    """The exact name as text PostgreSQL can store: a file's identity in the ledger.

    Linux names are bytes; Python shows bytes that are not UTF-8 as lone surrogates, which no
    database accepts. Those become ``\\xNN``; every other character is kept as is, so two
    different files never share a key (unlike :func:`display_name`, which normalises and shortens).
    """
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        try:
            return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate that did not come from undecodable bytes
            return name.encode("utf-8", "backslashreplace").decode("utf-8")


def display_name(name: str) -> str:
    """A filename safe to store and show: NFC, control characters replaced, bounded length."""
    cleaned = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", unicodedata.normalize("NFC", storable_path(name)))
    return cleaned if len(cleaned) <= 255 else cleaned[:120] + "…" + cleaned[-120:]


@dataclass
class FileOutcome:
    name: str                      # path relative to the source, display-safe
    outcome: str                   # new | duplicate | skipped | rejected
    reason: str | None = None
    document_uuid: str | None = None
    document_id: int | None = None
    task_id: str | None = None
    status: str | None = None


@dataclass
class Candidate:
    relative_path: str             # exact identity (storable_path); reports use display_name of it
    path: Path                     # where the bytes are read from (a temp copy for S3 sources)
    size: int
    mtime_ns: int
    sha256: str | None = None
    file_type: str | None = None
    mime: str | None = None
    root: Path | None = None       # the fence every open is checked against (None: our own temp copy)

    @property
    def shown(self) -> str:
        return display_name(self.relative_path)


@dataclass
class SweepOptions:
    source: str
    project_id: str
    recursive: bool = True
    extensions: tuple[str, ...] = SUPPORTED_EXTENSIONS
    patterns: tuple[str, ...] = ("*",)
    stable_seconds: float = 10.0
    batch_size: int = 200
    backpressure_limit: int = 5000
    dry_run: bool = False


@dataclass
class SweepReport:
    source: str
    project_id: str
    dry_run: bool
    files: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        counts = {"new": 0, "duplicate": 0, "skipped": 0, "rejected": 0}
        for item in self.files:
            counts[item.outcome] += 1
        return counts

    def new_document_ids(self) -> list[int]:
        return [f.document_id for f in self.files if f.outcome == "new" and f.document_id is not None]

    def to_dict(self) -> dict:
        return {"source": self.source, "project_id": self.project_id, "dry_run": self.dry_run,
                "counts": self.counts(), "seconds": round(self.seconds, 3), "files": [asdict(f) for f in self.files]}

    def markdown(self) -> str:
        counts = self.counts()
        lines = [f"# Intake sweep of `{self.source}`", "",
                 f"Project `{self.project_id}`{' (dry run: nothing registered)' if self.dry_run else ''}, "
                 f"{len(self.files)} files in {self.seconds:.1f}s.", "",
                 "| outcome | files |", "|---|---|"]
        lines += [f"| {name} | {count} |" for name, count in counts.items()]
        problems = [f for f in self.files if f.outcome in ("rejected", "skipped")]
        if problems:
            lines += ["", "## Rejected and skipped", "", "| file | outcome | reason |", "|---|---|---|"]
            lines += [f"| `{f.name}` | {f.outcome} | {f.reason or ''} |" for f in problems[:500]]
        return "\n".join(lines)

    def table(self) -> list[dict]:
        return [{"file": f.name, "outcome": f.outcome, "document_uuid": f.document_uuid or "",
                 "task_id": f.task_id or "", "reason": f.reason or ""} for f in self.files]


# -- discovery ------------------------------------------------------------------------------------


def _is_junk(name: str) -> bool:
    lowered = name.lower()
    return (name.startswith(".") or name.startswith("~$") or lowered in JUNK_NAMES
            or lowered.endswith(JUNK_SUFFIXES))


def _matches(name: str, options: SweepOptions) -> bool:
    from fnmatch import fnmatch

    return any(fnmatch(name, pattern) for pattern in options.patterns)


def _extension_ok(name: str, options: SweepOptions) -> bool:
    return name.rsplit(".", 1)[-1].lower() in options.extensions if "." in name else False


def discover_local(options: SweepOptions, settings: Settings, *, now: float | None = None
                   ) -> tuple[list[Candidate], list[FileOutcome]]:
    """Walk the folder (never leaving it) and split entries into candidates and accounted-for files."""
    root = Path(options.source).resolve(strict=True)
    if not root.is_dir():
        raise NotADirectoryError(f"intake source is not a folder: {root}")
    now = time.time() if now is None else now
    candidates: list[Candidate] = []
    accounted: list[FileOutcome] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            accounted.append(FileOutcome(display_name(str(folder.relative_to(root))), "rejected",
                                         f"folder unreadable: {exc.strerror}"))
            continue
        for entry in entries:
            exact = storable_path(str(Path(entry.path).relative_to(root)))
            relative = display_name(exact)
            if _is_junk(entry.name):
                accounted.append(FileOutcome(relative, "skipped", "hidden, temporary or OS metadata file"))
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                accounted.append(FileOutcome(relative, "skipped", "disappeared during the sweep"))
                continue
            if stat.S_ISLNK(info.st_mode):
                # Loops and broken links are outcomes too, never an exception that ends the sweep.
                accounted.append(FileOutcome(relative, *_symlink_outcome(Path(entry.path), root)))
                continue
            if stat.S_ISDIR(info.st_mode):
                if options.recursive:
                    stack.append(Path(entry.path))
                continue
            if not stat.S_ISREG(info.st_mode):
                accounted.append(FileOutcome(relative, "rejected", "not a regular file (device, socket or FIFO)"))
                continue
            if not _matches(entry.name, options):
                accounted.append(FileOutcome(relative, "skipped", "does not match the file patterns"))
                continue
            outcome = _screen(relative, entry.name, info.st_size, info.st_mtime, now, options, settings)
            if outcome:
                accounted.append(outcome)
                continue
            candidates.append(Candidate(exact, Path(entry.path), info.st_size, info.st_mtime_ns, root=root))
    return candidates, accounted


def _symlink_outcome(path: Path, root: Path) -> tuple[str, str]:
    """(outcome, reason) for a symlink found in the intake; links are never followed."""
    try:
        target = path.resolve(strict=True)
    except RuntimeError:  # Python 3.11 reports a loop this way (newer versions: OSError ELOOP)
        return "rejected", "symlink loop"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "rejected", "symlink loop"
        return "rejected", "broken symlink (its target does not exist or cannot be reached)"
    if not target.is_relative_to(root):
        return "rejected", "symlink pointing outside the intake folder"
    return "skipped", "symlink inside the intake (its target is swept)"


class _Refused(Exception):
    """An entry that must not be read; ``outcome`` and ``reason`` go into the report."""

    def __init__(self, outcome: str, reason: str):
        super().__init__(reason)
        self.outcome, self.reason = outcome, reason


def _open_inside(candidate: Candidate):
    """Open a candidate for reading without ever leaving the intake root.

    Discovery looked at the entry earlier; by now it may have been swapped for a symlink (to a
    file of the same size and mtime, so the change checks would not notice) or for a FIFO whose
    open would block the sweep. ``O_NOFOLLOW`` refuses a link in the last component,
    ``O_NONBLOCK`` keeps a FIFO from blocking, and the descriptor's real path (``/proc``) catches
    a parent folder swapped for a link.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(candidate.path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and candidate.root is not None:
            raise _Refused(*_symlink_outcome(candidate.path, candidate.root)) from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _Refused("rejected", "not a regular file (device, socket or FIFO)")
        if candidate.root is not None:
            proc = Path(f"/proc/self/fd/{fd}")
            real = Path(os.readlink(proc)) if proc.is_symlink() else Path(os.path.realpath(candidate.path))
            if not real.is_relative_to(candidate.root):
                raise _Refused("rejected", "symlink pointing outside the intake folder")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class _HashingReader:
    """A read-only stream that hashes what the uploader takes from it."""

    def __init__(self, handle):
        self.handle, self.digest = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        block = self.handle.read(size)
        self.digest.update(block)
        return block


def _screen(relative: str, name: str, size: int, mtime: float, now: float, options: SweepOptions,
            settings: Settings) -> FileOutcome | None:
    if not _extension_ok(name, options):
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else "(none)"
        return FileOutcome(relative, "rejected", f"unsupported file type: extension '.{ext}' "
                                                 f"(supported: {', '.join(options.extensions)})")
    age = now - mtime
    if age < options.stable_seconds:
        return FileOutcome(relative, "skipped", f"still changing: modified {max(age, 0):.1f}s ago "
                                                f"(stable delay {options.stable_seconds:.0f}s)")
    if size == 0:
        return FileOutcome(relative, "rejected", "empty file: 0 bytes")
    if size > settings.max_file_bytes:
        return FileOutcome(relative, "rejected", f"file too large: {size} bytes (limit {settings.max_file_bytes})")
    return None


def parse_s3_source(source: str) -> tuple[str, str]:
    without = source.removeprefix("s3://")
    bucket, _, prefix = without.partition("/")
    if not bucket:
        raise ValueError(f"not an s3://bucket/prefix source: {source!r}")
    return bucket, prefix


def discover_s3(options: SweepOptions, settings: Settings, storage: ObjectStorage, *, now: float | None = None
                ) -> tuple[list[dict], list[FileOutcome]]:
    bucket, prefix = parse_s3_source(options.source)
    now = time.time() if now is None else now
    found, accounted = [], []
    for obj in storage.client.list_objects(bucket, prefix=prefix, recursive=options.recursive):
        if obj.is_dir:
            continue
        exact = storable_path(obj.object_name[len(prefix):].lstrip("/"))
        relative = display_name(exact)
        name = obj.object_name.rsplit("/", 1)[-1]
        if _is_junk(name):
            accounted.append(FileOutcome(relative, "skipped", "hidden, temporary or OS metadata file"))
            continue
        if not _matches(name, options):
            accounted.append(FileOutcome(relative, "skipped", "does not match the file patterns"))
            continue
        mtime = obj.last_modified.timestamp()
        outcome = _screen(relative, name, obj.size, mtime, now, options, settings)
        if outcome:
            accounted.append(outcome)
            continue
        found.append({"relative_path": exact, "key": obj.object_name, "size": obj.size,
                      "mtime_ns": int(mtime * 1e9), "bucket": bucket})
    return found, accounted


# -- one batch ------------------------------------------------------------------------------------


def _ledger_hits(source: str, batch: list[Candidate]) -> set[str]:
    keys = [(source, c.relative_path) for c in batch]
    with session_scope() as session:
        rows = session.execute(
            select(IntakeFile.relative_path, IntakeFile.size_bytes, IntakeFile.mtime_ns)
            .where(tuple_(IntakeFile.source, IntakeFile.relative_path).in_(keys))
        ).all()
    seen = {path: (size, mtime) for path, size, mtime in rows}
    return {c.relative_path for c in batch if seen.get(c.relative_path) == (c.size, c.mtime_ns)}


def _hash(candidate: Candidate) -> Candidate | FileOutcome:
    from docflow.errors import PermanentError
    from tasks.steps.extract import detect_file_type

    try:
        # Hash, head and the after-read stat all come from one fenced descriptor.
        with _open_inside(candidate) as handle:
            digest, head = hashlib.sha256(), b""
            while block := handle.read(1 << 20):
                head = head or block[:8192]
                digest.update(block)
            after = os.fstat(handle.fileno())
    except _Refused as refused:
        return FileOutcome(candidate.shown, refused.outcome, refused.reason)
    except FileNotFoundError:
        return FileOutcome(candidate.shown, "skipped", "disappeared during the sweep")
    except OSError as exc:
        return FileOutcome(candidate.shown, "rejected", f"unreadable: {exc.strerror}")
    if (after.st_size, after.st_mtime_ns) != (candidate.size, candidate.mtime_ns):
        return FileOutcome(candidate.shown, "skipped", "changed while being read; taken by a later sweep")
    candidate.sha256 = digest.hexdigest()
    try:
        candidate.file_type, candidate.mime = detect_file_type(data_head=head, filename=candidate.path.name)
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
    from docflow.errors import TransientError

    key = original_key(project_id=project_id, sha256=candidate.sha256)
    try:
        with _open_inside(candidate) as handle:
            reader = _HashingReader(handle)
            try:
                storage._call("upload", storage.client.put_object, storage.bucket, key, reader,
                              length=candidate.size, content_type=candidate.mime or "application/octet-stream")
            except TransientError:
                # The uploader ran out of bytes because the file shrank (not the store failing).
                if os.fstat(handle.fileno()).st_size < candidate.size:
                    return FileOutcome(candidate.shown, "skipped", "changed while being read; taken by a later sweep")
                raise
    except _Refused as refused:
        return FileOutcome(candidate.shown, refused.outcome, refused.reason)
    except FileNotFoundError:
        return FileOutcome(candidate.shown, "skipped", "disappeared during the sweep")
    if reader.digest.hexdigest() != candidate.sha256:
        storage._call("cleanup", storage.client.remove_object, storage.bucket, key)
        return FileOutcome(candidate.shown, "skipped", "changed while being read; taken by a later sweep")
    return None


def process_batch(batch: list[Candidate], *, options: SweepOptions, settings: Settings,
                  storage: ObjectStorage, seen: dict[str, str] | None = None) -> list[FileOutcome]:
    """Ledger check, hash, dedupe, upload, register, submit and record one batch.

    ``seen`` (sha256 → relative path) carries within-sweep dedupe across batches; it matters for
    dry runs, where the database cannot catch a second copy because nothing was registered.
    """
    seen = {} if seen is None else seen
    outcomes: list[FileOutcome] = []
    already = _ledger_hits(options.source, batch)
    for candidate in batch:
        if candidate.relative_path in already:
            outcomes.append(FileOutcome(candidate.shown, "skipped", "already swept (unchanged since)"))
    todo = [c for c in batch if c.relative_path not in already]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        hashed = list(pool.map(_hash, todo))
    ready = [h for h in hashed if isinstance(h, Candidate)]
    outcomes += [h for h in hashed if isinstance(h, FileOutcome)]
    # Rejections go into the ledger under the file's exact identity (never its display name).
    rejected = [(c, h.reason) for c, h in zip(todo, hashed, strict=True)
                if isinstance(h, FileOutcome) and h.outcome == "rejected"]

    # Dedupe against the database and within the batch (the same bytes twice in the folder).
    known = documents_by_sha256(options.project_id, [c.sha256 for c in ready])
    fresh: dict[str, Candidate] = {}
    duplicates: list[tuple[Candidate, str]] = []
    # Registered but never submitted: an earlier sweep died between the insert and the publish.
    # Those rows are finished now, as if new (nothing else would ever submit them).
    unsubmitted = {sha for sha, row in known.items() if row.celery_status == Status.PENDING.value}
    # Committed as queued but never recorded in the ledger: an earlier sweep died between its
    # commit and its ledger write, so its publish may never have happened. Re-sent now (new task
    # id, so a message that did go out becomes a no-op) instead of waiting for reconcile's grace.
    resumable = _never_ledgered({row.id: sha for sha, row in known.items()
                                 if row.celery_status == Status.OCR_QUEUED.value})
    resumed: list[Candidate] = []
    for candidate in ready:
        if candidate.sha256 in resumable and candidate.sha256 not in seen:
            resumed.append(candidate)
            seen[candidate.sha256] = candidate.shown
        elif candidate.sha256 in known and candidate.sha256 not in unsubmitted:
            duplicates.append((candidate, "same content as an already registered document"))
        elif candidate.sha256 in seen:
            duplicates.append((candidate, f"same content as {seen[candidate.sha256]} in this sweep"))
        else:
            fresh[candidate.sha256] = candidate
            seen[candidate.sha256] = candidate.shown

    if options.dry_run:
        outcomes += [FileOutcome(c.shown, "new", "dry run: would be registered") for c in fresh.values()]
        outcomes += [FileOutcome(c.shown, "new", "dry run: would be re-sent (registered by an interrupted sweep)")
                     for c in resumed]
        outcomes += [FileOutcome(c.shown, "duplicate", reason) for c, reason in duplicates]
        return outcomes

    def upload(candidate: Candidate) -> FileOutcome | None:
        return _upload(candidate, project_id=options.project_id, storage=storage)

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        refused = dict(zip(list(fresh), pool.map(upload, fresh.values()), strict=True))
    for sha, outcome in refused.items():
        if outcome is not None:  # not registered; a skipped file is looked at again next sweep
            outcomes.append(outcome)
            if outcome.outcome == "rejected":
                rejected.append((fresh[sha], outcome.reason))
            del fresh[sha]

    registered = register_batch(list(fresh.values()), project_id=options.project_id)
    for sha in unsubmitted & set(registered):
        registered[sha] = (registered[sha][0], True)
    task_ids = submit_batch([doc_id for doc_id, created in registered.values() if created], settings=settings)

    ledger: list[dict] = []
    rows = documents_by_sha256(options.project_id, [c.sha256 for c in ready])
    for sha, candidate in fresh.items():
        doc_id, created = registered[sha]
        row = rows[sha]
        if created:
            # What this sweep did (queued it), not a re-read a fast worker may already have moved on.
            status = Status.OCR_QUEUED.value if doc_id in task_ids else row.celery_status
            outcomes.append(FileOutcome(candidate.shown, "new", None, str(row.document_uuid), doc_id,
                                        task_ids.get(doc_id), status))
        else:  # lost a race with a concurrent sweep: the other one registered it
            outcomes.append(FileOutcome(candidate.shown, "duplicate", "registered concurrently by another sweep",
                                        str(row.document_uuid), doc_id, None, row.celery_status))
        ledger.append(_ledger_row(options.source, candidate, "new" if created else "duplicate", doc_id))
    for candidate in resumed:
        row = known[candidate.sha256]
        result = redrive_document(document_id=row.id, expected_task_id=row.celery_task_id,
                                  reason="intake sweep interrupted before it finished this file; re-sent",
                                  settings=settings)
        status = Status.OCR_QUEUED.value if result.success else rows[candidate.sha256].celery_status
        outcomes.append(FileOutcome(candidate.shown, "new", "resumed: registered by an interrupted sweep",
                                    str(row.document_uuid), row.id, result.task_id, status))
        ledger.append(_ledger_row(options.source, candidate, "new", row.id))
    for candidate, reason in duplicates:
        row = rows.get(candidate.sha256)
        outcomes.append(FileOutcome(candidate.shown, "duplicate", reason,
                                    str(row.document_uuid) if row else None, row.id if row else None, None,
                                    row.celery_status if row else None))
        ledger.append(_ledger_row(options.source, candidate, "duplicate", row.id if row else None, reason))
    for candidate, reason in rejected:
        ledger.append(_ledger_row(options.source, candidate, "rejected", None, reason))
    record_ledger(ledger)
    return outcomes


def _ledger_row(source: str, candidate: Candidate, outcome: str, document_id: int | None,
                reason: str | None = None) -> dict:
    return dict(source=source, relative_path=candidate.relative_path, size_bytes=candidate.size,
                mtime_ns=candidate.mtime_ns, sha256=candidate.sha256, document_id=document_id,
                outcome=outcome, reason=reason)


def record_ledger(rows: list[dict]) -> None:
    if not rows:
        return
    statement = insert(IntakeFile.__table__)
    with session_scope() as session:
        insert_many(session, statement.on_conflict_do_update(
            constraint="uq_intake_files_source_path",
            set_={name: statement.excluded[name] for name in
                  ("size_bytes", "mtime_ns", "sha256", "document_id", "outcome", "reason")},
        ), rows)


def documents_by_sha256(project_id: str, shas: list[str]) -> dict:
    """sha256 → (sha256, id, document_uuid, celery_status, celery_task_id) of the project's documents."""
    with session_scope() as session:
        return {row.sha256: row for row in session.execute(
            select(SourceDocument.sha256, SourceDocument.id, SourceDocument.document_uuid, SourceDocument.celery_status,
                   SourceDocument.celery_task_id)
            .where(SourceDocument.project_id == project_id, SourceDocument.sha256.in_(shas))
        ).all()}


def _never_ledgered(sha_by_id: dict[int, str]) -> set[str]:
    """The sha256s of documents that no ``intake_files`` row points at (from any source)."""
    if not sha_by_id:
        return set()
    with session_scope() as session:
        ledgered = set(session.execute(
            select(IntakeFile.document_id).where(IntakeFile.document_id.in_(list(sha_by_id)))).scalars())
    return {sha for doc_id, sha in sha_by_id.items() if doc_id not in ledgered}


def register_batch(candidates: list[Candidate], *, project_id: str) -> dict[str, tuple[int, bool]]:
    """One multi-row insert; returns ``{sha256: (document id, created)}``."""
    if not candidates:
        return {}
    rows = [dict(project_id=project_id, original_file_name=display_name(Path(c.relative_path).name), sha256=c.sha256,
                 size_bytes=c.size, object_key=original_key(project_id=project_id, sha256=c.sha256),
                 file_type=c.file_type, mime_type=c.mime) for c in candidates]
    with session_scope() as session:
        table = SourceDocument.__table__
        inserted = {sha: doc_id for doc_id, sha in insert_many(
            session, insert(table).on_conflict_do_nothing(constraint="uq_source_documents_project_sha256")
            .returning(table.c.id, table.c.sha256), rows).all()}
        existing = {sha: doc_id for doc_id, sha in session.execute(
            select(SourceDocument.id, SourceDocument.sha256).where(
                SourceDocument.project_id == project_id,
                SourceDocument.sha256.in_([c.sha256 for c in candidates if c.sha256 not in inserted]))
        ).all()} if len(inserted) < len(candidates) else {}
    return {**{sha: (doc_id, False) for sha, doc_id in existing.items()},
            **{sha: (doc_id, True) for sha, doc_id in inserted.items()}}


def submit_batch(document_ids: list[int], *, settings: Settings) -> dict[int, str]:
    """Commit ``ocr_queued`` + task ids for the batch, then publish every message on one connection.

    Commit-then-publish, as for single documents: a failed publish leaves rows reconcile re-drives.
    """
    from docflow.submit import TASK_NAMES, new_task_id
    from tasks.celery_app import app

    if not document_ids:
        return {}
    task_ids = {doc_id: new_task_id() for doc_id in document_ids}
    with session_scope() as session:
        moved = documents.transition_many(session, to=Status.OCR_QUEUED, task_ids=task_ids)
        documents.record_queued_many(session, stage=Stage.OCR, task_ids={d: task_ids[d] for d in moved})
    try:
        with app.producer_or_acquire() as producer:
            for doc_id in moved:
                app.send_task(TASK_NAMES[Stage.OCR], args=[doc_id], task_id=task_ids[doc_id],
                              queue=settings.queue_ocr, producer=producer)
    except Exception:  # noqa: BLE001 - the rows are committed; reconcile re-drives unsent ones
        import logging

        logging.getLogger(__name__).exception("publishing a batch failed; reconcile will re-drive it")
    return {doc_id: task_ids[doc_id] for doc_id in moved}


# -- a whole sweep ----------------------------------------------------------------------------------


def queued_total(settings: Settings) -> int:
    from docflow.queues import queue_lengths, redis_client

    return sum(queue_lengths(redis_client(settings), list(settings.queues.values())).values())


def batched(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def sweep(options: SweepOptions, settings: Settings, *, on_batch: Callable[[int, int], None] | None = None
          ) -> SweepReport:
    """Run one sweep over a local folder or an ``s3://bucket/prefix`` source."""
    began = time.monotonic()
    report = SweepReport(options.source, options.project_id, options.dry_run)
    storage = ObjectStorage(settings)
    with tempfile.TemporaryDirectory(prefix="docflow-intake-") as tmp:
        if options.source.startswith("s3://"):
            found, accounted = discover_s3(options, settings, storage)
            candidates = []
            for index, item in enumerate(found):
                local = Path(tmp) / f"{index:08d}"  # derived name, never the object's
                storage.client.fget_object(item["bucket"], item["key"], str(local))
                os.utime(local, ns=(item["mtime_ns"], item["mtime_ns"]))
                candidates.append(Candidate(item["relative_path"], local, item["size"], item["mtime_ns"]))
        else:
            candidates, accounted = discover_local(options, settings)
        report.files += accounted
        done = 0
        seen: dict[str, str] = {}
        for batch in batched(candidates, options.batch_size):
            if not options.dry_run and queued_total(settings) > options.backpressure_limit:
                remaining = candidates[done:]
                report.files += [FileOutcome(c.shown, "skipped",
                                             f"backpressure: more than {options.backpressure_limit} messages queued")
                                 for c in remaining]
                break
            report.files += process_batch(batch, options=options, settings=settings, storage=storage, seen=seen)
            done += len(batch)
            if on_batch:
                on_batch(done, len(candidates))
    report.seconds = time.monotonic() - began
    return report
