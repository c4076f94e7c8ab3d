"""From detected file type to extractor, and the checks every extraction shares.

Each format's module is imported on first use, so a process that never sees a .docx never
loads python-docx (nor PDFium, PIL or tesserocr for formats that do not need them).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from docflow.core.errors import PermanentError
from tasks.steps.extract.types import (
    Budget,
    ExtractContext,
    Extraction,
    ExtractionLimits,
    size_text,
)

__all__ = ["extract_document"]

Extractor = Callable[[Path, ExtractContext], Extraction]

# "module:function" per file type, resolved with importlib on first use.
_EXTRACTORS: dict[str, str] = {
    "pdf": "tasks.steps.extract.pdf:extract",
    "image": "tasks.steps.extract.image:extract",
    "docx": "tasks.steps.extract.docx:extract",
    "eml": "tasks.steps.extract.eml:extract",
    "txt": "tasks.steps.extract.text:extract",
}
_loaded: dict[str, Extractor] = {}

_NO_TEXT = {
    "pdf": "no text could be extracted: the PDF has no text layer and OCR found no text",
    "image": "no text could be extracted: OCR found no text in the image",
    "docx": "no text could be extracted: the Word document has no text",
    "txt": "no text could be extracted: the text file is blank",
    "eml": "no text could be extracted: the e-mail has no headers, body or readable attachments",
}


def extract_document(
    *,
    path: Path,
    file_type: str,
    limits: ExtractionLimits = ExtractionLimits(),  # noqa: B008 - a frozen dataclass: one shared default is safe
) -> Extraction:
    """Extract ``path`` (already classified by :func:`detect_file_type`) into elements.

    Raises :class:`PermanentError` for bad input (empty, too large, encrypted, corrupt, no text,
    over a limit) and ``ValueError`` for an unknown ``file_type`` (a caller bug).
    """
    ctx = ExtractContext(limits=limits, budget=Budget(), depth=0, dispatch=_dispatch)
    return _dispatch(Path(path), file_type, ctx)


def _dispatch(path: Path, file_type: str, ctx: ExtractContext) -> Extraction:
    """Checked extraction of one file, the top-level one or an attachment nested in it."""
    if file_type not in _EXTRACTORS:
        raise ValueError(f"unknown file_type {file_type!r}")
    limits = ctx.limits
    size = path.stat().st_size
    if size == 0:
        raise PermanentError("empty file: 0 bytes")
    if size > limits.max_bytes:
        raise PermanentError(f"file too large: {size_text(size)} exceeds the {size_text(limits.max_bytes)} limit")
    result = _extractor(file_type)(path, ctx)
    if not any(e.text.strip() for e in result.elements):
        raise PermanentError(_NO_TEXT.get(file_type, "no text could be extracted"))
    return result


def _extractor(file_type: str) -> Extractor:
    """The extractor for a known ``file_type``, importing its module the first time."""
    extractor = _loaded.get(file_type)
    if extractor is None:
        # importlib serialises concurrent imports; a race here only repeats a dict store.
        module_name, _, attribute = _EXTRACTORS[file_type].partition(":")
        extractor = getattr(importlib.import_module(module_name), attribute)
        _loaded[file_type] = extractor
    return extractor
