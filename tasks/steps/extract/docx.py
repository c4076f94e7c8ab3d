"""Word .docx extractor, behind a zip guard that refuses bombs and macros before python-docx reads a part.

Table cells are read as the XML holds them (each ``w:tc`` once), not through python-docx's grid
(``row.cells``), which fails on valid files whose rows have fewer cells than the grid ("no tc
element at grid_offset=1") that Word and LibreOffice open. A file python-docx still rejects is
re-saved by LibreOffice and read again (:mod:`~tasks.steps.extract.fallback`) before it ends as
corrupt. Pictures are OCR'd when large enough to hold text (:mod:`~tasks.steps.extract.pictures`).
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import docx  # python-docx: imports are absolute, so this is never this module
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table, _Cell
from lxml.etree import XMLSyntaxError

from docflow.core.errors import PermanentError
from tasks.steps.extract.containers import DOCX, check_zip
from tasks.steps.extract.fallback import first_that_reads, resaved
from tasks.steps.extract.ooxml_text import package_text
from tasks.steps.extract.pictures import picture_text
from tasks.steps.extract.types import Collector, ExtractContext, Extraction

if TYPE_CHECKING:
    from docx.text.paragraph import Paragraph

__all__ = ["extract"]


def extract(path: Path, ctx: ExtractContext) -> Extraction:
    # unstructured's partition_docx is not used: python-docx directly is the measured fast path,
    # while partition_docx runs every paragraph through spaCy to guess its kind.
    # The guard also refuses macro-bearing packages (a .docm, or one renamed .docx).
    check_zip(path, ctx.limits, DOCX)
    return first_that_reads(
        DOCX.noun,
        [
            ("python-docx", lambda: _read(path, ctx)),
            ("every text run", lambda: package_text(path, ctx, file_type="docx", noun=DOCX.noun)),
            (
                "LibreOffice",
                lambda: resaved(
                    path, target="docx:MS Word 2007 XML", noun=DOCX.noun, read=lambda again: _read(again, ctx)
                ),
            ),
        ],
    )


def _read(path: Path, ctx: ExtractContext) -> Extraction:
    out = Collector(ctx.limits)
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
    picture_text(path, ctx, out, page=1, last_page=1)
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
    for tr in table._tbl.tr_lst:
        # Each cell element once: a cell merged across columns is one element; one merged down
        # rows is empty after its first row (its text is in the first).
        values = (" ".join(_Cell(tc, table).text.split()) for tc in tr.tc_lst)
        if cells := [value for value in values if value]:
            rows.append(" | ".join(cells))
    return "\n".join(rows)
