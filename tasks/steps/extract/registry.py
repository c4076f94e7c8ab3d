"""From detected file type to extractor, and the checks every extraction shares.

Each format's module is imported on first use, so a process that never sees a .docx never
loads python-docx (nor PDFium, PIL or tesserocr for formats that do not need them), and one
that never sees an Office, markup or Outlook file never loads unstructured, pandas or spaCy.
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
    # Read through unstructured (the optional "formats" extra) or its libraries.
    "pptx": "tasks.steps.extract.office:extract_pptx",
    "xlsx": "tasks.steps.extract.office:extract_xlsx",
    "xls": "tasks.steps.extract.office:extract_xls",
    "odt": "tasks.steps.extract.office:extract_odt",
    "doc": "tasks.steps.extract.office:extract_doc",
    "ppt": "tasks.steps.extract.office:extract_ppt",
    "html": "tasks.steps.extract.markup:extract_html",
    "xml": "tasks.steps.extract.markup:extract_xml",
    "md": "tasks.steps.extract.markup:extract_md",
    "rtf": "tasks.steps.extract.markup:extract_rtf",
    "epub": "tasks.steps.extract.markup:extract_epub",
    "csv": "tasks.steps.extract.tabular:extract_csv",
    "tsv": "tasks.steps.extract.tabular:extract_tsv",
    "msg": "tasks.steps.extract.msg:extract",
    "json": "tasks.steps.extract.structured:extract_json",
    "ndjson": "tasks.steps.extract.structured:extract_ndjson",
    "rst": "tasks.steps.extract.markup:extract_rst",
    "org": "tasks.steps.extract.markup:extract_org",
    "p7m": "tasks.steps.extract.smime:extract",
    "zip": "tasks.steps.extract.archive:extract",
}
_loaded: dict[str, Extractor] = {}

_NO_TEXT = {
    "pdf": "no text could be extracted: the PDF has no text layer and OCR found no text",
    "image": "no text could be extracted: OCR found no text in the image",
    "docx": "no text could be extracted: the Word document has no text",
    "txt": "no text could be extracted: the text file is blank",
    "eml": "no text could be extracted: the e-mail has no headers, body or readable attachments",
    "pptx": "no text could be extracted: the PowerPoint presentation has no text on its slides or in its notes",
    "ppt": "no text could be extracted: the PowerPoint presentation has no text on its slides or in its notes",
    "xlsx": "no text could be extracted: the Excel workbook has no cells with values",
    "xls": "no text could be extracted: the Excel workbook has no cells with values",
    "odt": "no text could be extracted: the OpenDocument text has no text",
    "doc": "no text could be extracted: the Word document has no text",
    "html": "no text could be extracted: the HTML page has no visible text",
    "xml": "no text could be extracted: the XML document has no text content",
    "md": "no text could be extracted: the Markdown document is blank",
    "rtf": "no text could be extracted: the RTF document has no text",
    "epub": "no text could be extracted: the EPUB e-book has no text",
    "csv": "no text could be extracted: the CSV file has no cells with values",
    "tsv": "no text could be extracted: the TSV file has no cells with values",
    "msg": "no text could be extracted: the Outlook message has no headers, body or readable attachments",
    "json": "no text could be extracted: the JSON file holds no text, numbers or booleans",
    "ndjson": "no text could be extracted: the NDJSON file holds no text, numbers or booleans",
    "rst": "no text could be extracted: the reStructuredText document is blank",
    "org": "no text could be extracted: the Org document is blank",
    "p7m": "no text could be extracted: the signed message has no headers, body or readable attachments",
    "zip": "no text could be extracted: the ZIP archive holds no files",
}


def extract_document(
    *,
    path: Path,
    file_type: str,
    limits: ExtractionLimits = ExtractionLimits(),  # noqa: B008 - a frozen dataclass: one shared default is safe
    depth: int = 0,
    members_dir: Path | None = None,
) -> Extraction:
    """Extract ``path`` (already classified by :func:`detect_file_type`) into elements.

    ``depth``: how deeply the file is nested already (a member of an archive that was itself a
    member: 2), counted against the nesting limit. ``members_dir``: where an archive leaves the
    files that become documents of their own (:attr:`Extraction.members`); without it they are
    extracted in place, as pages.

    Raises :class:`PermanentError` for bad input (empty, too large, encrypted, corrupt, no text,
    over a limit) and ``ValueError`` for an unknown ``file_type`` (a caller bug).
    """
    ctx = ExtractContext(limits=limits, budget=Budget(), depth=depth, dispatch=_dispatch, members_dir=members_dir)
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
