"""Readers in turn: an office file the fast reader rejects is read by the next one.

python-docx, python-pptx, openpyxl and pandoc are strict: a valid Word file with a table whose rows
have fewer cells than its grid, or a workbook with an unusual part, fails them, while Word and
LibreOffice open it. :func:`first_that_reads` tries each reader in order; a reader that calls the
file corrupt, or finds no text in it, passes it to the next; any other refusal (a limit, macros,
encryption) stops at once, as it would stop every reader. When every reader fails, the error names
each and what it said; when every reader found no text (and none called it corrupt), the last
one's empty result stands, and the registry says the document has no text.
LibreOffice's reading is :func:`resaved`: the file converted (re-saved) by LibreOffice, then read
by the fast reader again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from docflow.core import soffice
from docflow.core.errors import PermanentError
from tasks.steps.extract.types import Extraction

__all__ = ["first_that_reads", "resaved"]

Reader = Callable[[], Extraction]


def first_that_reads(noun: str, readers: Sequence[tuple[str, Reader]]) -> Extraction:
    """The first reader's extraction that does not fail as corrupt; see the module docstring."""
    corrupt = f"corrupt {noun}: "
    failures: list[str] = []
    empty: Extraction | None = None
    for name, read in readers:
        try:
            result = read()
            if any(element.text.strip() for element in result.elements):
                return result
            empty = result
            failures.append(f"{name}: no text")
            continue
        except soffice.SofficeMissing:
            failures.append(f"{name}: not installed on this worker")
        except PermanentError as exc:
            message = str(exc)
            if not message.startswith(corrupt):
                raise
            failures.append(f"{name}: {message.removeprefix(corrupt).removeprefix(f'{name} ')}")
    if empty is not None and all(failure.endswith(": no text") for failure in failures):
        return empty  # nothing was corrupt: the document has no text, and the registry says so
    if len(failures) == 1:
        raise PermanentError(f"{corrupt}{failures[0].partition(': ')[2]}")
    raise PermanentError(f"{corrupt}no reader could read it ({'; '.join(failures)})")


def resaved(path: Path, *, target: str, noun: str, read: Callable[[Path], Extraction]) -> Extraction:
    """``read`` the file as LibreOffice re-saves it (``target``: "docx:MS Word 2007 XML", "xlsx", ...)."""
    with tempfile.TemporaryDirectory(prefix="docflow-resave-") as tmp:
        return read(soffice.convert(path, Path(tmp), target=target, noun=noun))
