"""Word .docx extractor, behind a zip guard that refuses bombs and macros before python-docx reads a part."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import docx  # python-docx: imports are absolute, so this is never this module
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from lxml.etree import XMLSyntaxError

from docflow.core.errors import PermanentError
from tasks.steps.extract.containers import DOCX, check_zip
from tasks.steps.extract.types import Collector, ExtractContext, Extraction

if TYPE_CHECKING:
    from docx.oxml.table import CT_Tc
    from docx.text.paragraph import Paragraph

__all__ = ["extract"]


def extract(path: Path, ctx: ExtractContext) -> Extraction:
    limits = ctx.limits
    # unstructured's partition_docx is not used: python-docx directly is the measured fast path,
    # while partition_docx runs every paragraph through spaCy to guess its kind.
    # The guard also refuses macro-bearing packages (a .docm, or one renamed .docx).
    check_zip(path, limits, DOCX)
    out = Collector(limits)
    try:
        document = docx.Document(str(path))
    except MemoryError:
        raise
    except Exception as exc:
        raise PermanentError(f"corrupt Word document: {_docx_reason(exc)}") from exc
    try:
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                out.add(_table_text(block), "Table", 1)
            else:
                out.add(_join_docx_lines(block.text), _docx_kind(block), 1)
    except (
        PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, EOFError, zlib.error,
        XMLSyntaxError,
    ) as exc:  # fmt: skip
        raise PermanentError(f"corrupt Word document: {_docx_reason(exc)}") from exc
    return Extraction("docx", 1, out.elements, ocr_pages=0, text_pages=1)


def _docx_reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return "a required part is missing from the archive"
    if isinstance(exc, zipfile.BadZipFile):
        return "the zip container is damaged"
    if isinstance(exc, XMLSyntaxError):
        return "the document XML is malformed"
    if isinstance(exc, PackageNotFoundError):
        return "not a Word .docx file"
    if isinstance(exc, ValueError):
        return f"not a Word .docx file ({exc})"
    if isinstance(exc, (EOFError, zlib.error)):
        return "a compressed part is truncated or damaged"
    return f"the package structure is invalid ({type(exc).__name__})"


def _docx_kind(paragraph: Paragraph) -> str:
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style.startswith(("Heading", "Title", "Subtitle")):
        return "Title"
    if "List" in style or paragraph._p.pPr is not None and paragraph._p.pPr.numPr is not None:
        return "ListItem"
    return "NarrativeText"


def _join_docx_lines(text: str) -> str:
    # Soft line breaks inside a Word paragraph are layout, not structure.
    return " ".join(text.split())


def _table_text(table: Table) -> str:
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: list[CT_Tc] = []  # the elements themselves: ids of freed lxml proxies get reused
        for cell in row.cells:
            if any(cell._tc is tc for tc in seen):  # a merged cell repeats its element
                continue
            seen.append(cell._tc)
            value = " ".join(cell.text.split())
            if value:
                cells.append(value)
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows)
