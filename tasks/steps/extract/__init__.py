"""Extraction step: turn one stored file into ordered, typed text elements.

Guarantees:

* Pure: no Celery, Prefect or database; reads only ``path`` (and writes only private temp
  files for e-mail attachments, removed before returning).
* Bad input never escapes as anything but :class:`~docflow.core.errors.PermanentError` whose message
  says plainly what is wrong ("encrypted PDF: ...", "corrupt PDF: ...", "empty file: 0 bytes").
  Environment problems (missing file, missing tessdata) and programming errors propagate as is.
* Every limit in :class:`ExtractionLimits` is enforced: file size up front, page count before any
  page is read, pixels before any image is decoded, text as it accumulates.
* PDFs are processed one page at a time; at most one rendered page is alive at once.
* Element pages satisfy ``1 <= page <= page_count``; ``ocr_pages + text_pages <= page_count``.
* Importing this package has no process-wide side effects and loads no format library: each
  format's module (PDFium, PIL, python-docx, tesserocr, unstructured and its parsers) is imported
  when first needed, and
  process settings change only in :func:`configure` and on the first OCR call.

Thread safety: PDFium and the per-process tesseract instance are each guarded by a lock, so the
step may run in threads (Prefect's default task runner); OCR itself is then serialised per
process, which is the intended unit of parallelism.
"""

from __future__ import annotations

from pathlib import Path

from docflow.core.filetypes import detect_file_type
from tasks.steps.extract.ocr import configure_ocr, ocr_languages_used
from tasks.steps.extract.registry import extract_document
from tasks.steps.extract.types import Element, Extraction, ExtractionLimits

__all__ = [
    "Element",
    "Extraction",
    "ExtractionLimits",
    "configure",
    "detect_file_type",
    "extract_document",
    "ocr_languages_used",
]

_DEFAULT_MAX_PIXELS = ExtractionLimits().max_pixels


def configure(
    *,
    tessdata_dir: Path,
    ocr_lang: str = "eng",
    max_pixels: int = _DEFAULT_MAX_PIXELS,
    choose_ocr_languages: bool = False,
) -> None:
    """Set up this process for extraction; idempotent and cheap, so call it before every document.

    PIL's guard is process-wide; aligning it with the pixel limit makes both agree (never below
    the default, so it does not refuse images that the limit allows). The per-call
    ``max_pixels`` is checked explicitly before decoding, and PIL's DecompressionBombError
    (raised above twice this value) is translated like any other bomb.
    """
    from PIL import Image  # here, not at import: importing the package loads no imaging library

    Image.MAX_IMAGE_PIXELS = max(max_pixels, _DEFAULT_MAX_PIXELS)
    configure_ocr(tessdata_dir=tessdata_dir, lang=ocr_lang, choose=choose_ocr_languages)
