"""Intake folders as tests need them: files already settled, or a folder of every kind of trouble."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path


def settled_intake_folder(folder: Path, files: list[Path]) -> Path:
    """``files`` copied into ``folder`` and dated ten minutes back, so a sweep finds them settled
    (past any ``stable_seconds``) and takes them at once."""
    folder.mkdir()
    past = time.time() - 600
    for path in files:
        copy = Path(shutil.copy(path, folder / path.name))
        os.utime(copy, (past, past))
    return folder


def build_mixed_intake_folder(root: Path, good: dict[str, Path], outside: Path) -> dict[str, Path]:
    """Samples plus a duplicate, a zero-byte file, an unsupported file, junk, a symlink that
    escapes the folder, and a file still being written (mtime = now)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "sub").mkdir(exist_ok=True)
    for name, path in good.items():
        shutil.copy(path, root / name)
    shutil.copy(good["field_notes.txt"], root / "sub" / "copy of field notes.txt")
    (root / "empty.pdf").write_bytes(b"")
    (root / "spreadsheet.xyz").write_bytes(b"not a document we take")
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "draft.txt.part").write_bytes(b"partial download")
    outside.write_text("secret outside the intake root")
    (root / "escape.txt").symlink_to(outside)
    writing = root / "still_writing.txt"
    writing.write_text("Maria Gonzalez wrote this from Rotterdam on March 3, 2025, and kept typing")
    past = time.time() - 3600
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and path != writing:
            os.utime(path, (past, past))
    return {"writing": writing}
