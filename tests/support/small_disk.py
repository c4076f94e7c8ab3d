"""A service's data folder moved onto a small filesystem of its own, to be filled up on purpose.

Needs ``mount`` (root); a scenario skips with the reason where that is refused. The service is
stopped around each move, so its files are consistent on both sides, and what it wrote while on
the small filesystem comes back to the ordinary disk at the end.
"""

from __future__ import annotations

import errno
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def fill(path: Path) -> int:
    """Write zeros to ``path`` until the filesystem refuses (ENOSPC); returns the bytes written."""
    written = 0
    block = b"\0" * (256 * 1024)
    with open(path, "wb", buffering=0) as handle:
        while True:
            try:
                written += handle.write(block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                return written


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@contextmanager
def small_filesystem(service, data: Path, saved: Path, *, headroom_mb: int = 32) -> Iterator[Path]:
    """``data`` (the stopped-and-restarted ``service``'s folder) on a tmpfs of its current size plus
    ``headroom_mb``; yields the folder, with the service running on it."""
    service.stop()
    shutil.copytree(data, saved)
    size_mb = _size(data) // (1 << 20) + headroom_mb
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(data)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if mount.returncode != 0:
        service.start()
        pytest.skip(f"cannot mount a small filesystem here: {mount.stderr.strip()}")
    try:
        shutil.copytree(saved, data, dirs_exist_ok=True)
        service.start()
        yield data
    finally:
        for filler in data.glob("filler*"):
            filler.unlink()
        service.stop()
        shutil.rmtree(saved)
        shutil.copytree(data, saved)
        subprocess.run(["umount", str(data)], check=True, timeout=30)
        shutil.copytree(saved, data, dirs_exist_ok=True)
        service.start()
