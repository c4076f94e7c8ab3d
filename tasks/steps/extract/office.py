"""Office documents docflow reads through unstructured: PowerPoint, Excel, OpenDocument text, and
legacy (OLE2) Word, Excel and PowerPoint files.

Containers are checked before any parser runs: zips against bombs and macros
(:func:`~tasks.steps.extract.containers.check_zip`), OLE2 files against a suffix that lies, macros
and encryption (:func:`~tasks.steps.extract.containers.check_ole`). Slides and sheets are pages.

Legacy .doc and .ppt are converted by LibreOffice first. docflow runs ``soffice`` itself rather than
through unstructured's ``partition_doc``/``partition_ppt``, whose conversion has no timeout (one
hanging conversion would hold a worker forever), shares the user's LibreOffice profile (two
conversions at once collide) and carries on when the conversion fails. The converted .docx is then
read by docflow's own Word reader, so a .doc and a .docx of the same text read the same; the
converted .pptx goes the way of any .pptx.

A .pptx, .xlsx or .odt that the fast reader calls corrupt is re-saved by LibreOffice and read again
(:mod:`~tasks.steps.extract.fallback`) before it ends as corrupt. Pictures inside them are OCR'd
when large enough to hold text (:mod:`~tasks.steps.extract.pictures`).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import tempfile
from pathlib import Path

from docflow.core import soffice
from docflow.core.errors import PermanentError
from tasks.steps.extract.containers import ODT, PPTX, XLSX, check_ole, check_zip
from tasks.steps.extract.fallback import first_that_reads, resaved
from tasks.steps.extract.ooxml_text import package_text
from tasks.steps.extract.partitioned import collect, partition
from tasks.steps.extract.pictures import picture_text
from tasks.steps.extract.types import Collector, ExtractContext, Extraction, ExtractionLimits

__all__ = ["extract_doc", "extract_odt", "extract_ppt", "extract_pptx", "extract_xls", "extract_xlsx"]

_SLIDE = re.compile(r"ppt/slides/slide\d+\.xml")
_SHEET = re.compile(r"xl/(?:worksheets|chartsheets)/\w+\.xml")


def extract_pptx(path: Path, ctx: ExtractContext) -> Extraction:
    return _pptx(path, ctx, file_type="pptx")


def extract_xlsx(path: Path, ctx: ExtractContext) -> Extraction:
    sheets = sum(1 for name in check_zip(path, ctx.limits, XLSX) if _SHEET.fullmatch(name))
    _check_pages(sheets, "the workbook", "sheets", ctx.limits)
    return first_that_reads(
        XLSX.noun,
        [
            ("unstructured/openpyxl", lambda: _xlsx(path, ctx, file_type="xlsx", pages=sheets)),
            ("every text run", lambda: package_text(path, ctx, file_type="xlsx", noun=XLSX.noun)),
            (
                "LibreOffice",
                lambda: resaved(
                    path,
                    target="xlsx",
                    noun=XLSX.noun,
                    read=lambda again: _xlsx(again, ctx, file_type="xlsx", pages=sheets),
                ),
            ),
        ],
    )


def extract_xls(path: Path, ctx: ExtractContext) -> Extraction:
    check_ole(path, "xls", noun=XLSX.noun)
    # xlrd reads the legacy binary workbook directly: no LibreOffice needed. The sheet count is
    # only known once it has, so the page limit is checked after.
    result = _xlsx(path, ctx, file_type="xls", pages=1)
    _check_pages(result.page_count, "the workbook", "sheets", ctx.limits)
    return result


def extract_odt(path: Path, ctx: ExtractContext) -> Extraction:
    check_zip(path, ctx.limits, ODT)
    from tasks.steps.extract import docx  # LibreOffice's .docx of it is read by the Word reader

    def by_pandoc() -> Extraction:
        # pandoc (inside pypandoc_binary) converts to .docx, which unstructured then partitions.
        out = Collector(ctx.limits)
        pages = collect(partition("unstructured.partition.odt:partition_odt", path, noun=ODT.noun), out)
        picture_text(path, ctx, out, page=max(pages, 1), last_page=max(pages, 1))
        return _result("odt", max(pages, 1), out, ctx.limits)

    def by_libreoffice(converted: Path) -> Extraction:
        return dataclasses.replace(docx.extract(converted, ctx), file_type="odt")

    return first_that_reads(
        ODT.noun,
        [
            ("unstructured/pandoc", by_pandoc),
            ("LibreOffice", lambda: resaved(path, target="docx:MS Word 2007 XML", noun=ODT.noun, read=by_libreoffice)),
        ],
    )


def extract_doc(path: Path, ctx: ExtractContext) -> Extraction:
    check_ole(path, "doc", noun="Word document")
    from tasks.steps.extract import docx  # the .docx reader; python-docx loads with it

    with tempfile.TemporaryDirectory(prefix="docflow-doc-") as tmp:
        converted = _convert(
            path, Path(tmp), target="docx:MS Word 2007 XML", noun="Word document",
            legacy="a legacy Word .doc", package="libreoffice-writer-nogui",
        )  # fmt: skip
        return dataclasses.replace(docx.extract(converted, ctx), file_type="doc")


def extract_ppt(path: Path, ctx: ExtractContext) -> Extraction:
    check_ole(path, "ppt", noun=PPTX.noun)
    with tempfile.TemporaryDirectory(prefix="docflow-ppt-") as tmp:
        converted = _convert(
            path, Path(tmp), target="pptx:Impress MS PowerPoint 2007 XML", noun=PPTX.noun,
            legacy="a legacy PowerPoint .ppt", package="libreoffice-impress-nogui",
        )  # fmt: skip
        return _pptx(converted, ctx, file_type="ppt")


def _pptx(path: Path, ctx: ExtractContext, *, file_type: str) -> Extraction:
    slides = sum(1 for name in check_zip(path, ctx.limits, PPTX) if _SLIDE.fullmatch(name))
    _check_pages(slides, "the presentation", "slides", ctx.limits)
    return first_that_reads(
        PPTX.noun,
        [
            ("unstructured/python-pptx", lambda: _slides(path, ctx, file_type=file_type, slides=slides)),
            ("every text run", lambda: package_text(path, ctx, file_type=file_type, noun=PPTX.noun)),
            (
                "LibreOffice",
                lambda: resaved(
                    path,
                    target="pptx:Impress MS PowerPoint 2007 XML",
                    noun=PPTX.noun,
                    read=lambda again: _slides(again, ctx, file_type=file_type, slides=slides),
                ),
            ),
        ],
    )


def _slides(path: Path, ctx: ExtractContext, *, file_type: str, slides: int) -> Extraction:
    out = Collector(ctx.limits)
    elements = partition(
        "unstructured.partition.pptx:partition_pptx",
        path,
        noun=PPTX.noun,
        include_slide_notes=True,  # speaker notes are often where the names and numbers are
        include_page_breaks=False,
    )
    pages = max(slides, collect(elements, out), 1)
    picture_text(path, ctx, out, page=1, last_page=pages)  # each picture on the slide that shows it
    return _result(file_type, pages, out, ctx.limits)


def _xlsx(path: Path, ctx: ExtractContext, *, file_type: str, pages: int) -> Extraction:
    out = Collector(ctx.limits)
    elements = partition("unstructured.partition.xlsx:partition_xlsx", path, noun=XLSX.noun)
    pages = max(pages, collect(elements, out), 1)
    picture_text(path, ctx, out, page=1, last_page=pages)
    return _result(file_type, pages, out, ctx.limits)


def _result(file_type: str, pages: int, out: Collector, limits: ExtractionLimits) -> Extraction:
    return Extraction(file_type, pages, out.elements, ocr_pages=0, text_pages=pages)


def _check_pages(count: int, what: str, unit: str, limits: ExtractionLimits) -> None:
    if count > limits.max_pages:
        raise PermanentError(f"too many pages: {what} has {count:,} {unit}, over the limit of {limits.max_pages:,}")


def _convert(path: Path, tmp: Path, *, target: str, noun: str, legacy: str, package: str) -> Path:
    """Convert a legacy file with LibreOffice into ``tmp`` (:func:`docflow.core.soffice.convert`)."""
    if shutil.which("soffice") is None:
        raise PermanentError(
            f"unsupported file type: {legacy} needs LibreOffice to convert it, and LibreOffice is not "
            f"installed on this worker (apt-get install {package})"
        )
    return soffice.convert(path, tmp, target=target, noun=noun)
