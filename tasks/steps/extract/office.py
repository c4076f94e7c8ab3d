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
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from docflow.core.errors import PermanentError
from tasks.steps.extract.containers import ODT, PPTX, XLSX, check_ole, check_zip
from tasks.steps.extract.partitioned import collect, partition
from tasks.steps.extract.types import Collector, ExtractContext, Extraction, ExtractionLimits

__all__ = ["extract_doc", "extract_odt", "extract_ppt", "extract_pptx", "extract_xls", "extract_xlsx"]

# A conversion of a real document takes seconds; minutes means LibreOffice is stuck on this file.
SOFFICE_TIMEOUT_SECONDS = 180.0
_SLIDE = re.compile(r"ppt/slides/slide\d+\.xml")
_SHEET = re.compile(r"xl/(?:worksheets|chartsheets)/\w+\.xml")


def extract_pptx(path: Path, ctx: ExtractContext) -> Extraction:
    return _pptx(path, ctx, file_type="pptx")


def extract_xlsx(path: Path, ctx: ExtractContext) -> Extraction:
    sheets = sum(1 for name in check_zip(path, ctx.limits, XLSX) if _SHEET.fullmatch(name))
    _check_pages(sheets, "the workbook", "sheets", ctx.limits)
    return _xlsx(path, ctx, file_type="xlsx", pages=sheets)


def extract_xls(path: Path, ctx: ExtractContext) -> Extraction:
    check_ole(path, "xls", noun=XLSX.noun)
    # xlrd reads the legacy binary workbook directly: no LibreOffice needed. The sheet count is
    # only known once it has, so the page limit is checked after.
    result = _xlsx(path, ctx, file_type="xls", pages=1)
    _check_pages(result.page_count, "the workbook", "sheets", ctx.limits)
    return result


def extract_odt(path: Path, ctx: ExtractContext) -> Extraction:
    check_zip(path, ctx.limits, ODT)
    # pandoc (inside pypandoc_binary) converts to .docx, which unstructured then partitions.
    out = Collector(ctx.limits)
    pages = collect(partition("unstructured.partition.odt:partition_odt", path, noun=ODT.noun), out)
    return _result("odt", max(pages, 1), out, ctx.limits)


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
    out = Collector(ctx.limits)
    elements = partition(
        "unstructured.partition.pptx:partition_pptx",
        path,
        noun=PPTX.noun,
        include_slide_notes=True,  # speaker notes are often where the names and numbers are
        include_page_breaks=False,
    )
    pages = collect(elements, out)
    return _result(file_type, max(slides, pages, 1), out, ctx.limits)


def _xlsx(path: Path, ctx: ExtractContext, *, file_type: str, pages: int) -> Extraction:
    out = Collector(ctx.limits)
    elements = partition("unstructured.partition.xlsx:partition_xlsx", path, noun=XLSX.noun)
    highest = collect(elements, out)
    return _result(file_type, max(pages, highest, 1), out, ctx.limits)


def _result(file_type: str, pages: int, out: Collector, limits: ExtractionLimits) -> Extraction:
    return Extraction(file_type, pages, out.elements, ocr_pages=0, text_pages=pages)


def _check_pages(count: int, what: str, unit: str, limits: ExtractionLimits) -> None:
    if count > limits.max_pages:
        raise PermanentError(f"too many pages: {what} has {count:,} {unit}, over the limit of {limits.max_pages:,}")


def _convert(path: Path, tmp: Path, *, target: str, noun: str, legacy: str, package: str) -> Path:
    """Convert ``path`` with LibreOffice into ``tmp``; return the converted file.

    A private profile per conversion keeps concurrent conversions apart; the process group is
    killed on timeout, because ``soffice`` is a wrapper around the process that does the work.
    """
    soffice = shutil.which("soffice")
    if soffice is None:
        raise PermanentError(
            f"unsupported file type: {legacy} needs LibreOffice to convert it, and LibreOffice is not "
            f"installed on this worker (apt-get install {package})"
        )
    extension = target.partition(":")[0]
    source = tmp / f"document{path.suffix.lower() or '.bin'}"  # a plain name: no option-like paths
    shutil.copyfile(path, source)
    command = [
        soffice, "--headless", "--norestore", "--nologo", "--nolockcheck",
        f"-env:UserInstallation={(tmp / 'profile').as_uri()}",
        "--convert-to", target, "--outdir", str(tmp / "out"), str(source),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        _, stderr = process.communicate(timeout=SOFFICE_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise PermanentError(
            f"corrupt {noun}: LibreOffice did not finish converting it within {SOFFICE_TIMEOUT_SECONDS:.0f} s"
        ) from None
    converted = tmp / "out" / f"document.{extension}"
    if process.returncode != 0 or not converted.is_file() or converted.stat().st_size == 0:
        # LibreOffice prints warnings about its own setup (Java, fonts) before the error that matters.
        lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
        errors = [line for line in lines if line and not line.lower().startswith("warning")]
        reason = " ".join(errors)[-300:] or f"exit status {process.returncode}"
        raise PermanentError(f"corrupt {noun}: LibreOffice could not convert it ({reason})")
    return converted
