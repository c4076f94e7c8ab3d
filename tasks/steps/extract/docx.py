"""Word .docx extractor, behind a zip guard that refuses bombs before python-docx reads a part."""

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
from tasks.steps.extract.types import Collector, ExtractContext, Extraction, ExtractionLimits, size_text

if TYPE_CHECKING:
    from docx.oxml.table import CT_Tc
    from docx.text.paragraph import Paragraph

__all__ = ["check_zip", "extract"]

# A .docx holds tens of parts; an archive with more is not a Word document worth opening.
_MAX_ZIP_ENTRIES = 10_000


def extract(path: Path, ctx: ExtractContext) -> Extraction:
    limits = ctx.limits
    # unstructured's partition_docx is not used: it classifies paragraphs with spaCy's
    # en_core_web_sm and, when that model is missing, downloads it from GitHub at run time and
    # writes into site-packages -- neither acceptable in an offline worker.
    check_zip(path, limits)
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


def check_zip(path: Path, limits: ExtractionLimits) -> None:
    """Refuse non-zips and zip bombs before python-docx inflates every part into memory.

    The declared sizes are checked first (cheap). Then every part is inflated once, 64 KiB at a
    time, and thrown away, because declared sizes can lie: zipfile stops at the declared size,
    but python-docx reads each part with ``read()``, which asks zlib for up to 2 GiB of output in
    one call -- a part declaring 4 KB that inflates to 1 GB costs a gigabyte of memory before
    its CRC check fails. Read in small steps, the same lie costs 64 KiB and ends in that check.
    """
    # XML compresses well, so a genuine document can inflate past max_bytes; 4x still bounds
    # memory while leaving room for that.
    limit = 4 * limits.max_bytes
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise PermanentError("corrupt Word document: not a valid .docx (zip) file") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > _MAX_ZIP_ENTRIES:
            raise PermanentError(
                f"corrupt Word document: the archive has {len(infos):,} parts, over the limit of {_MAX_ZIP_ENTRIES:,}"
            )
        if "word/document.xml" not in {info.filename for info in infos}:
            raise PermanentError("corrupt Word document: the archive has no word/document.xml")
        inflated = sum(info.file_size for info in infos)
        if inflated > limit:
            raise PermanentError(
                f"Word document too large: it unpacks to {size_text(inflated)}, over the "
                f"{size_text(limit)} limit (possible zip bomb)"
            )
        try:
            for info in infos:
                with archive.open(info) as part:
                    while part.read(1 << 16):
                        pass
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise PermanentError(f"corrupt Word document: the zip container is damaged ({exc})") from exc
        except (NotImplementedError, RuntimeError) as exc:  # unknown compression, encrypted part
            raise PermanentError(f"corrupt Word document: a part cannot be read ({exc})") from exc


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
