"""Pictures of a document's pages, rendered on demand from the stored original and cached.

A page is rendered only when a browser asks for it: the original is streamed from the object
store to a private temporary file (never held whole in memory), one page is rendered (PDFium for
PDFs; PIL for images, one frame of a TIFF), scaled to a screen-sized PNG, and kept under
``<data_dir>/cache/pages/<sha256>/`` so the next view is a file read. Every size limit of
extraction applies here too.

Office documents (Word, PowerPoint, Excel, OpenDocument, RTF) are laid out by LibreOffice: the
first view of any of their pages schedules one conversion of the document to PDF, off the request
path (one conversion at a time per API process, in a background thread, killed after
``OFFICE_TIMEOUT_S``), and answers :class:`PictureNotReady` (a transient error: ask again in a few
seconds) until it is done. The PDF is cached beside the page pictures (``document.pdf``), and its
pages are rendered like any PDF's; a conversion that failed leaves its reason (``document.failed``)
so the document is not converted again on every view. Formats without pages (e-mail, text) and
office documents on a machine without LibreOffice have no picture.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from docflow.core import soffice
from docflow.core.errors import PermanentError, TransientError
from docflow.core.settings import Settings
from docflow.core.storage import ObjectStorage

RENDER_DPI = 110
MAX_SIDE = 1800  # pixels: enough for a screen, small enough to send fast
_pdfium = threading.Lock()  # PDFium is not thread-safe; the API serves requests in threads
# Laid out by LibreOffice into a PDF first.
OFFICE_TYPES = frozenset({"docx", "doc", "odt", "rtf", "pptx", "ppt", "xlsx", "xls"})
OFFICE_TIMEOUT_S = 120.0
# The formats whose type the content decides (a zip's parts, RTF's header) are laid out as that
# format only: LibreOffice, left to guess, lays out a damaged one as a page of its bytes read as
# text. Legacy OLE2 files (doc, ppt, xls) are told apart by their name only (core/filetypes.py),
# so LibreOffice's own detection reads them.
LAYOUT_FILTERS = {
    "docx": "MS Word 2007 XML",
    "odt": "writer8",
    "rtf": "Rich Text Format",
    "pptx": "Impress MS PowerPoint 2007 XML",
    "xlsx": "Calc MS Excel 2007 XML",
}
_converting: dict[str, Future[None]] = {}  # sha256 -> the conversion under way
_converting_lock = threading.Lock()
_converter: ThreadPoolExecutor | None = None


class PictureNotReady(TransientError):
    """The document's layout is being made (LibreOffice); its pictures follow in a few seconds."""


def cache_path(settings: Settings, *, sha256: str, page: int) -> Path:
    return settings.data_dir.resolve() / "cache" / "pages" / sha256[:2] / sha256 / f"{page}-{RENDER_DPI}.png"


def has_pictures(file_type: str | None) -> bool:
    return file_type in ("pdf", "image") or (file_type in OFFICE_TYPES and soffice.soffice_path() is not None)


def office_pdf_path(settings: Settings, *, sha256: str) -> Path:
    """Where an office document's PDF layout is cached (beside its page pictures)."""
    return cache_path(settings, sha256=sha256, page=1).parent / "document.pdf"


def picture_count(settings: Settings, *, sha256: str, file_type: str | None) -> int | None:
    """How many page pictures an office document has (its PDF layout's pages); None until it is laid out
    (and for other types, whose page count is the document's)."""
    pdf = office_pdf_path(settings, sha256=sha256)
    if file_type not in OFFICE_TYPES or not pdf.exists():
        return None
    import pypdfium2 as pdfium

    with _pdfium:
        document = pdfium.PdfDocument(pdf)
        try:
            return len(document)
        finally:
            document.close()


def page_png(settings: Settings, *, object_key: str, sha256: str, file_type: str | None, page: int) -> Path:
    """The cached PNG of ``page`` (1-based), rendering it first if needed.

    PermanentError: no such page, or no picture for this type. :class:`PictureNotReady` (transient):
    an office document's layout is being made; ask again shortly.
    """
    if not has_pictures(file_type):
        raise PermanentError(f"a {file_type or 'document'} file has no page pictures")
    target = cache_path(settings, sha256=sha256, page=page)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if file_type in OFFICE_TYPES:
        layout = _office_layout(settings, object_key=object_key, sha256=sha256, file_type=str(file_type))
        _store(target, _render_pdf(layout, page, settings))
        return target
    with tempfile.TemporaryDirectory(prefix="docflow-page-") as tmp:
        original = ObjectStorage(settings).get_to_file(key=object_key, path=Path(tmp) / "original")
        picture = (
            _render_pdf(original, page, settings) if file_type == "pdf" else _render_image(original, page, settings)
        )
        _store(target, picture)
    return target


def _store(target: Path, data: bytes) -> None:
    # Written beside, then renamed: a concurrent reader never sees half a file.
    partial = target.with_suffix(f".{hashlib.sha256(str(threading.get_ident()).encode()).hexdigest()[:8]}.part")
    partial.write_bytes(data)
    partial.replace(target)


def _office_layout(settings: Settings, *, object_key: str, sha256: str, file_type: str) -> Path:
    """The cached PDF layout of an office document, or the conversion scheduled and PictureNotReady."""
    pdf = office_pdf_path(settings, sha256=sha256)
    if pdf.exists():
        return pdf
    failed = pdf.with_suffix(".failed")
    if failed.exists():
        raise PermanentError(f"the document cannot be laid out as pages: {failed.read_text(errors='replace')}")
    global _converter
    with _converting_lock:
        running = _converting.get(sha256)
        if running is None or running.done():
            if _converter is None:
                _converter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="docflow-layout")
            _converting[sha256] = _converter.submit(
                _convert_office, settings, object_key=object_key, sha256=sha256, file_type=file_type
            )
    raise PictureNotReady("the page pictures are being prepared (LibreOffice lays the document out); try again shortly")


def _convert_office(settings: Settings, *, object_key: str, sha256: str, file_type: str) -> None:
    """Lay one office document out as a PDF into the cache (run in the background thread)."""
    pdf = office_pdf_path(settings, sha256=sha256)
    try:
        with tempfile.TemporaryDirectory(prefix="docflow-layout-") as tmp:
            scratch = Path(tmp)
            original = ObjectStorage(settings).get_to_file(key=object_key, path=scratch / f"original.{file_type}")
            converted = soffice.convert(
                original,
                scratch,
                target="pdf",
                noun=f"{file_type} document",
                timeout_s=OFFICE_TIMEOUT_S,
                import_filter=LAYOUT_FILTERS.get(file_type),
            )
            _store(pdf, converted.read_bytes())
    except PermanentError as exc:
        _store(pdf.with_suffix(".failed"), str(exc).encode())
    finally:
        with _converting_lock:
            _converting.pop(sha256, None)


def _render_pdf(path: Path, page: int, settings: Settings) -> bytes:
    import io

    import pypdfium2 as pdfium

    with _pdfium:
        try:
            pdf = pdfium.PdfDocument(path)
        except pdfium.PdfiumError as exc:
            raise PermanentError(f"the PDF cannot be opened: {exc}") from None
        try:
            if not 1 <= page <= len(pdf):
                raise PermanentError(f"no page {page}: the PDF has {len(pdf)} page(s)")
            handle = pdf[page - 1]
            width, height = handle.get_size()
            scale = min(RENDER_DPI / 72, MAX_SIDE / max(width, height, 1))
            if width * height * scale * scale > settings.max_pixels:
                raise PermanentError(f"page {page} is too large to show")
            bitmap = handle.render(scale=scale)
            try:
                image = bitmap.to_pil()
            finally:
                bitmap.close()
                handle.close()
        finally:
            pdf.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _render_image(path: Path, page: int, settings: Settings) -> bytes:
    import io

    from PIL import Image

    Image.MAX_IMAGE_PIXELS = settings.max_pixels
    try:
        with Image.open(path) as image:
            frames = getattr(image, "n_frames", 1) if image.format == "TIFF" else 1
            if not 1 <= page <= frames:
                raise PermanentError(f"no page {page}: the image has {frames} page(s)")
            image.seek(page - 1)
            frame = image.convert("RGB")
    except (OSError, Image.DecompressionBombError, ValueError) as exc:
        raise PermanentError(f"the image cannot be shown: {exc}") from None
    frame.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    frame.save(out, format="PNG")
    return out.getvalue()
