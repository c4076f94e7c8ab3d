"""PDF extractor: the text layer where there is one, OCR of the rendered page where not.

Pages are processed one at a time; at most one rendered page is alive at once.
"""

from __future__ import annotations

import ctypes
import math
import re
import threading
import unicodedata
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from docflow.core.errors import PermanentError
from tasks.steps.extract.ocr import MAX_OCR_SIDE, ocr_image
from tasks.steps.extract.pdf_layout import CELL_GAP, Fragment, TextLine, layout_page
from tasks.steps.extract.shaping import ocr_paragraphs, paragraph_elements
from tasks.steps.extract.types import Collector, ExtractContext, Extraction, ExtractionLimits

__all__ = ["extract"]

# A text layer with fewer meaningful characters than this is treated as absent (scanner stamps,
# page numbers) and the page is OCRed instead.
_MIN_TEXT_LAYER_CHARS = 20
_MIN_RENDER_DPI = 72

# PDFium is not thread-safe at all: every call into it, including close, goes through this lock.
_pdfium_lock = threading.RLock()


def extract(path: Path, ctx: ExtractContext) -> Extraction:
    limits = ctx.limits
    out = Collector(limits)
    ocr_pages = text_pages = 0
    with _pdfium_lock:
        pdf = _open_pdf(path)
    try:
        with _pdfium_lock:
            page_count = len(pdf)
        if page_count == 0:
            raise PermanentError("no text could be extracted: the PDF has no pages")
        if page_count > limits.max_pages:
            raise PermanentError(
                f"too many pages: the PDF has {page_count:,} pages, over the limit of {limits.max_pages:,}"
            )
        for index in range(page_count):
            number = index + 1
            lines, gray, dpi = _read_page(pdf, index, limits)
            if gray is None:
                text_pages += 1
                layout_page(lines, page=number, out=out)
            else:
                ocr_pages += 1
                text = ocr_image(gray, dpi=dpi)
                del gray  # one page image alive at a time
                paragraph_elements(ocr_paragraphs(text), page=number, out=out)
    finally:
        with _pdfium_lock:
            pdf.close()
    return Extraction("pdf", page_count, out.elements, ocr_pages=ocr_pages, text_pages=text_pages)


def _open_pdf(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            raise PermanentError("encrypted PDF: a password is required to read it") from exc
        if code == pdfium_c.FPDF_ERR_SECURITY:
            raise PermanentError("encrypted PDF: it uses an unsupported security handler (DRM)") from exc
        if code == pdfium_c.FPDF_ERR_FILE:
            raise OSError(f"PDF file could not be opened: {path}") from exc
        reason = {
            pdfium_c.FPDF_ERR_FORMAT: "the file structure is damaged or truncated",
            pdfium_c.FPDF_ERR_PAGE: "the page tree is missing or damaged",
        }.get(code, "PDFium could not parse it")
        raise PermanentError(f"corrupt PDF: {reason}") from exc


def _read_page(
    pdf: pdfium.PdfDocument, index: int, limits: ExtractionLimits
) -> tuple[list[TextLine], Image.Image | None, int]:
    """Read one page under the PDFium lock: its text-layer lines, or a rendered image to OCR."""
    number = index + 1
    with _pdfium_lock:
        try:
            page = pdf.get_page(index)
        except pdfium.PdfiumError as exc:
            raise PermanentError(f"corrupt PDF: page {number} could not be read") from exc
        try:
            textpage = page.get_textpage()
            try:
                lines = _text_lines(textpage)
            finally:
                textpage.close()
            meaningful = sum(_meaningful_chars(line.text) for line in lines)
            if meaningful >= _MIN_TEXT_LAYER_CHARS and not (meaningful < 200 and _image_coverage(page) > 0.5):
                return lines, None, 0
            width, height = page.get_size()
            dpi = _render_dpi(width, height, limits, number=number)
            _check_page_images(page, limits, number=number)
            bitmap = page.render(scale=dpi / 72, grayscale=True, draw_annots=True)
            try:
                # A copy, so the PDFium bitmap can be freed before the (long) OCR step.
                gray = bitmap.to_pil().copy()
            finally:
                bitmap.close()
            return lines, gray, dpi
        except pdfium.PdfiumError as exc:
            raise PermanentError(f"corrupt PDF: page {number} could not be read or rendered") from exc
        finally:
            page.close()


def _render_dpi(width: float, height: float, limits: ExtractionLimits, *, number: int) -> int:
    """Highest DPI <= ocr_dpi whose bitmap fits max_pixels and tesseract's side limit."""
    if not (width > 0 and height > 0) or not math.isfinite(width * height):
        raise PermanentError(f"corrupt PDF: page {number} has an invalid size")
    by_pixels = 72 * math.sqrt(limits.max_pixels / (width * height))
    by_side = 72 * MAX_OCR_SIDE / max(width, height)
    dpi = int(min(limits.ocr_dpi, by_pixels, by_side))
    if dpi < min(_MIN_RENDER_DPI, limits.ocr_dpi):
        raise PermanentError(
            f"page too large: page {number} is {width / 72:.0f} x {height / 72:.0f} inches; "
            f"even at {_MIN_RENDER_DPI} dpi it exceeds the {limits.max_pixels:,} pixel limit"
        )
    return dpi


def _check_page_images(page: pdfium.PdfPage, limits: ExtractionLimits, *, number: int) -> None:
    """Refuse to render a page holding an image whose declared size is over ``max_pixels``.

    Rendering decodes every image at full size first (a 20,000 x 20,000 one costs ~700 MB per
    worker process); the declared size is read from the image dictionary without decoding.
    Text-layer pages never get here: their images are not decoded at all.
    """
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        try:
            width, height = obj.get_px_size()
        except pdfium.PdfiumError:
            continue  # no usable size: PDFium will skip drawing it as well
        if width * height > limits.max_pixels:
            raise PermanentError(
                f"image too large: page {number} holds a {width:,} x {height:,} pixel image, over "
                f"the {limits.max_pixels:,} pixel limit (possible decompression bomb)"
            )


def _image_coverage(page: pdfium.PdfPage) -> float:
    """Fraction of the page covered by its largest image (a scan with a small text stamp)."""
    width, height = page.get_size()
    area = max(width * height, 1.0)
    best = 0.0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, bottom, right, top = obj.get_bounds()
        best = max(best, max(0.0, right - left) * max(0.0, top - bottom) / area)
    return min(best, 1.0)


def _meaningful_chars(text: str) -> int:
    # Fonts without a usable ToUnicode map yield private-use or control characters: not text.
    return sum(1 for ch in text if not ch.isspace() and unicodedata.category(ch)[0] in "LNPS" and ch != "\ufffd")


def _font_size(raw: Any, index: int, matrix: Any) -> float:
    """A glyph's font size in page units: the text state's size times the vertical scale of the
    glyph's matrix. Most producers (LaTeX, Word, IBM's publishing tools) set the size to 1 and scale
    the text matrix instead; read as 1 pt, every gap between two letters of a title looked like a
    table's cell gap, and a Redbook's cover came out letter by letter ("R o w a n d C o l u m n")."""
    size = float(pdfium_c.FPDFText_GetFontSize(raw, index))
    if pdfium_c.FPDFText_GetMatrix(raw, index, ctypes.byref(matrix)):
        scale = math.hypot(matrix.c, matrix.d)
        if scale > 0:
            size *= scale
    return size


def _text_lines(textpage: pdfium.PdfTextPage) -> list[TextLine]:
    """The text layer as visual lines, each split into fragments at wide gaps (table cells).

    PDFium ends most lines with a generated line break, but not all: after a line-end hyphen or a
    dash it runs the next visual line on, so a glyph that lands clearly below the line's baseline
    and to the left of the previous glyph starts a new line here (the line's position then stays
    right for paragraphing). A break PDFium did not print is joined back without a space.
    """
    raw = textpage.raw
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    x, y = ctypes.c_double(), ctypes.c_double()
    matrix = pdfium_c.FS_MATRIX()
    lines: list[TextLine] = []
    fragments: list[Fragment] = []
    chars: list[str] = []
    start = end = 0.0  # the current fragment's left and right edge
    anchor: tuple[float, float] | None = None  # (baseline, font size) of the line's first glyph
    last_x = last_mid = 0.0
    glued = False
    word_gaps = 0

    def close_fragment() -> None:
        nonlocal chars
        text = re.sub("\u00ad(?=[a-z])", "", "".join(chars)).replace("\u00ad", "-").strip()
        if text:
            fragments.append(Fragment(text, start, max(end, start)))
        chars = []

    def flush(*, next_glued: bool = False) -> None:
        nonlocal fragments, anchor, glued, word_gaps
        close_fragment()
        if fragments and anchor is not None:
            lines.append(TextLine(fragments, y=anchor[0], size=anchor[1], glued=glued, word_gaps=word_gaps))
        fragments, anchor, glued, word_gaps = [], None, next_glued, 0

    for i in range(pdfium_c.FPDFText_CountChars(raw)):
        code = pdfium_c.FPDFText_GetUnicode(raw, i)
        if code in (0x0A, 0x0D):  # PDFium's line breaks (generated or in the content)
            flush()
            continue
        ch = chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        if code in (0x02, 0xAD, 0xFFFE) or (ch == "-" and pdfium_c.FPDFText_IsHyphen(raw, i) == 1):
            ch = "\u00ad"  # a line-end hyphen (0xFFFE: PDFium's mark for one); resolved in close_fragment()
        if ch.isspace():
            if chars:
                chars.append(ch)
            continue
        pdfium_c.FPDFText_GetCharBox(raw, i, *(ctypes.byref(v) for v in (left, right, bottom, top)))
        mid = (bottom.value + top.value) / 2
        if anchor is not None and abs(mid - last_mid) > 0.6 * anchor[1] and left.value < last_x:
            # Run on by PDFium to the next visual line: a break of our own.
            flush(next_glued=bool(chars) and not chars[-1].isspace() and chars[-1] not in "\u00ad-")
        if anchor is None:
            pdfium_c.FPDFText_GetCharOrigin(raw, i, ctypes.byref(x), ctypes.byref(y))
            anchor = (y.value, _font_size(raw, i, matrix))
            start = left.value
        elif chars and left.value - end > CELL_GAP * anchor[1]:
            close_fragment()
            start = left.value
        elif not chars:
            start = left.value
        elif chars[-1].isspace():
            word_gaps += 1
        chars.append(ch)
        end = max(end, right.value) if chars[:-1] else right.value
        last_x, last_mid = left.value, mid
    flush()
    return lines
