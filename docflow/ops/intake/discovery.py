"""Discovery: list a folder or an S3 prefix and screen every entry before anything is read.

Screening never opens a file: junk and OS metadata, symlinks, devices, names that match no pattern,
unsupported extensions, files still changing (the stable-file delay), empty and oversized files are
all accounted for here with a reason. What is left are :class:`Candidate` s for the batches.
A folder is walked without ever leaving its root; an S3 prefix is listed, not downloaded.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from fnmatch import fnmatch
from pathlib import Path

from docflow.core.names import display_name, storable_path
from docflow.core.settings import Settings
from docflow.core.storage import ObjectStorage
from docflow.ops.intake.outcomes import Candidate, FileOutcome, SweepOptions

JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini", "icon\r"}
JUNK_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", ".swx", "~", ".lock")


def _is_junk(name: str) -> bool:
    lowered = name.lower()
    return name.startswith((".", "~$")) or lowered in JUNK_NAMES or lowered.endswith(JUNK_SUFFIXES)


def _matches(name: str, options: SweepOptions) -> bool:
    return any(fnmatch(name, pattern) for pattern in options.patterns)


def _extension_ok(name: str, options: SweepOptions) -> bool:
    return name.rsplit(".", 1)[-1].lower() in options.extensions if "." in name else False


def discover_local(
    options: SweepOptions, settings: Settings, *, now: float | None = None
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
            accounted.append(
                FileOutcome(
                    display_name(str(folder.relative_to(root))), "rejected", f"folder unreadable: {exc.strerror}"
                )
            )
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
                accounted.append(FileOutcome(relative, *symlink_outcome(Path(entry.path), root)))
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
            settled = options.settled.get(exact) == info.st_mtime_ns
            outcome = _screen(relative, entry.name, info.st_size, info.st_mtime, now, options, settings, settled)
            if outcome:
                accounted.append(outcome)
                continue
            candidates.append(Candidate(exact, Path(entry.path), info.st_size, info.st_mtime_ns, root=root))
    return candidates, accounted


def symlink_outcome(path: Path, root: Path) -> tuple[str, str]:
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


def _screen(
    relative: str,
    name: str,
    size: int,
    mtime: float,
    now: float,
    options: SweepOptions,
    settings: Settings,
    settled: bool = False,
) -> FileOutcome | None:
    """Why an entry is not read (an outcome), or None. ``settled``: its writer is known to have
    closed it (a close-after-write event), so the stable-file delay does not apply."""
    if not _extension_ok(name, options):
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else "(none)"
        return FileOutcome(
            relative,
            "rejected",
            f"unsupported file type: extension '.{ext}' (supported: {', '.join(options.extensions)})",
        )
    age = now - mtime
    if age < options.stable_seconds and not settled:
        return FileOutcome(
            relative,
            "skipped",
            f"still changing: modified {max(age, 0):.1f}s ago (stable delay {options.stable_seconds:.0f}s)",
        )
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


def discover_s3(
    options: SweepOptions, settings: Settings, storage: ObjectStorage, *, now: float | None = None
) -> tuple[list[Candidate], list[FileOutcome]]:
    """List the prefix (metadata only: nothing is downloaded here) and screen every object."""
    bucket, prefix = parse_s3_source(options.source)
    now = time.time() if now is None else now
    candidates: list[Candidate] = []
    accounted: list[FileOutcome] = []
    for obj in storage.call(
        "list", lambda: list(storage.client.list_objects(bucket, prefix=prefix, recursive=options.recursive))
    ):
        if obj.is_dir or obj.object_name is None:
            continue
        exact = storable_path(obj.object_name[len(prefix) :].lstrip("/"))
        relative = display_name(exact)
        name = obj.object_name.rsplit("/", 1)[-1]
        if _is_junk(name):
            accounted.append(FileOutcome(relative, "skipped", "hidden, temporary or OS metadata file"))
            continue
        if not _matches(name, options):
            accounted.append(FileOutcome(relative, "skipped", "does not match the file patterns"))
            continue
        mtime = obj.last_modified.timestamp() if obj.last_modified else now
        size = obj.size or 0
        outcome = _screen(relative, name, size, mtime, now, options, settings)
        if outcome:
            accounted.append(outcome)
            continue
        candidates.append(Candidate(exact, None, size, int(mtime * 1e9), bucket=bucket, object_key=obj.object_name))
    return candidates, accounted


def discover(
    options: SweepOptions, settings: Settings, storage: ObjectStorage
) -> tuple[list[Candidate], list[FileOutcome]]:
    """Discovery for either kind of source."""
    if options.is_s3:
        return discover_s3(options, settings, storage)
    return discover_local(options, settings)
