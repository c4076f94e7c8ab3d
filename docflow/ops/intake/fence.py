"""The intake root is a fence: every read opens the file without following a link and checks
where the open descriptor really is."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

from docflow.ops.intake.discovery import symlink_outcome
from docflow.ops.intake.outcomes import Candidate


class Refused(Exception):
    """An entry that must not be read; ``outcome`` and ``reason`` go into the report."""

    def __init__(self, outcome: str, reason: str):
        super().__init__(reason)
        self.outcome, self.reason = outcome, reason


def open_inside(candidate: Candidate) -> BinaryIO:
    """Open a candidate for reading without ever leaving the intake root.

    Discovery looked at the entry earlier; by now it may have been swapped for a symlink (to a
    file of the same size and mtime, so the change checks would not notice) or for a FIFO whose
    open would block the sweep. ``O_NOFOLLOW`` refuses a link in the last component,
    ``O_NONBLOCK`` keeps a FIFO from blocking, and the descriptor's real path (``/proc``) catches
    a parent folder swapped for a link.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if candidate.path is None:
        raise ValueError("a candidate is opened only once it has a local path")
    try:
        fd = os.open(candidate.path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and candidate.root is not None:
            raise Refused(*symlink_outcome(candidate.path, candidate.root)) from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Refused("rejected", "not a regular file (device, socket or FIFO)")
        if candidate.root is not None:
            proc = Path(f"/proc/self/fd/{fd}")
            real = Path(os.readlink(proc)) if proc.is_symlink() else Path(os.path.realpath(candidate.path))
            if not real.is_relative_to(candidate.root):
                raise Refused("rejected", "symlink pointing outside the intake folder")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class HashingReader:
    """A read-only stream that hashes what the uploader takes from it."""

    def __init__(self, handle):
        self.handle, self.digest = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        block = self.handle.read(size)
        self.digest.update(block)
        return block
