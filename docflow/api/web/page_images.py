"""Pictures of a document's pages, rendered on demand from the stored original and cached.

A page is rendered only when a browser asks for it: the original is streamed from the object
store to a private temporary file (never held whole in memory), one page is rendered (PDFium for
PDFs; PIL for images, one frame of a TIFF), scaled to a screen-sized PNG, and kept under
``<data_dir>/cache/pages/<sha256>/`` so the next view is a file read. Formats without pages
(Word, e-mail, text) have no picture. Every size limit of extraction applies here too.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from pathlib import Path

from docflow.core.errors import PermanentError
from docflow.core.settings import Settings
from docflow.core.storage import ObjectStorage

RENDER_DPI = 110
MAX_SIDE = 1800  # pixels: enough for a screen, small enough to send fast
_pdfium = threading.Lock()  # PDFium is not thread-safe; the API serves requests in threads


def cache_path(settings: Settings, *, sha256: str, page: int) -> Path:
    return settings.data_dir.resolve() / "cache" / "pages" / sha256[:2] / sha256 / f"{page}-{RENDER_DPI}.png"


def has_pictures(file_type: str | None) -> bool:
    return file_type in ("pdf", "image")


def page_png(settings: Settings, *, object_key: str, sha256: str, file_type: str | None, page: int) -> Path:
    """The cached PNG of ``page`` (1-based), rendering it first if needed. PermanentError: no such page."""
    if not has_pictures(file_type):
        raise PermanentError(f"a {file_type or 'document'} file has no page pictures")
    target = cache_path(settings, sha256=sha256, page=page)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="docflow-page-") as tmp:
        original = ObjectStorage(settings).get_to_file(key=object_key, path=Path(tmp) / "original")
        picture = (
            _render_pdf(original, page, settings) if file_type == "pdf" else _render_image(original, page, settings)
        )
        # Written beside, then renamed: a concurrent reader never sees half a PNG.
        partial = target.with_suffix(f".{hashlib.sha256(str(threading.get_ident()).encode()).hexdigest()[:8]}.part")
        partial.write_bytes(picture)
        partial.replace(target)
    return target


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
