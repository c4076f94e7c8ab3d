"""Running LibreOffice headless to convert one document: the one place docflow starts ``soffice``.

Used by extraction (legacy .doc/.ppt, and office files the fast readers reject) and by the page
pictures of office documents. Each conversion gets its own profile and its own runtime directory
inside the caller's scratch folder, so concurrent conversions never collide on the user's
LibreOffice profile and LibreOffice never warns that ``XDG_RUNTIME_DIR`` is not set (it is, to a
private folder). A conversion that outlives its timeout is killed with its whole process group
(``soffice`` is a wrapper around the process that does the work). Only the standard library.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from docflow.core.errors import PermanentError

__all__ = ["SOFFICE_TIMEOUT_SECONDS", "SofficeMissing", "convert", "soffice_path"]

# A conversion of a real document takes seconds; minutes means LibreOffice is stuck on this file.
SOFFICE_TIMEOUT_SECONDS = 180.0


class SofficeMissing(PermanentError):
    """LibreOffice is not installed on this machine."""


def soffice_path() -> str | None:
    return shutil.which("soffice")


def convert(
    path: Path,
    scratch: Path,
    *,
    target: str,
    noun: str,
    timeout_s: float = SOFFICE_TIMEOUT_SECONDS,
    import_filter: str | None = None,
) -> Path:
    """Convert ``path`` into ``scratch`` with LibreOffice; return the converted file.

    ``target`` is LibreOffice's ``--convert-to`` argument ("docx:MS Word 2007 XML", "pdf").
    ``import_filter`` (``--infilter``, "Impress MS PowerPoint 2007 XML") reads the file as that
    format only; without it LibreOffice guesses, and reads what it cannot recognise as plain text.
    Raises :class:`SofficeMissing` without LibreOffice, and :class:`PermanentError`
    ("corrupt {noun}: LibreOffice ...") when it cannot convert the file or takes over ``timeout_s``.
    """
    soffice = soffice_path()
    if soffice is None:
        raise SofficeMissing("LibreOffice (soffice) is not installed")
    extension = target.partition(":")[0]
    source = scratch / f"document{path.suffix.lower() or '.bin'}"  # a plain name: no option-like paths
    shutil.copyfile(path, source)
    runtime = scratch / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    command = [
        soffice, "--headless", "--norestore", "--nologo", "--nolockcheck",
        f"-env:UserInstallation={(scratch / 'profile').as_uri()}",
        *([f"--infilter={import_filter}"] if import_filter else []),
        "--convert-to", target, "--outdir", str(scratch / "out"), str(source),
    ]  # fmt: skip
    # The worker's environment, with a runtime folder of the conversion's own.
    environment = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env=environment,
    )
    try:
        _, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise PermanentError(
            f"corrupt {noun}: LibreOffice did not finish converting it within {timeout_s:.0f} s"
        ) from None
    converted = scratch / "out" / f"document.{extension}"
    if process.returncode != 0 or not converted.is_file() or converted.stat().st_size == 0:
        # LibreOffice prints warnings about its own setup (Java, fonts) before the error that matters.
        lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
        errors = [line for line in lines if line and not line.lower().startswith("warning")]
        reason = " ".join(errors)[-300:] or f"exit status {process.returncode}"
        raise PermanentError(f"corrupt {noun}: LibreOffice could not convert it ({reason})")
    return converted
