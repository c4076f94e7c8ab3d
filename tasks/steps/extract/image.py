"""Image extractor: PNG/JPEG/TIFF/GIF/BMP/WEBP/HEIC, OCRed frame by frame (a TIFF page per frame).

HEIC/HEIF (what phones take) is decoded by pillow-heif's PIL plugin, registered on first use.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from docflow.core.errors import PermanentError
from tasks.steps.extract.ocr import MAX_OCR_SIDE, ocr_image
from tasks.steps.extract.shaping import ocr_paragraphs, paragraph_elements
from tasks.steps.extract.types import Collector, ExtractContext, Extraction, ExtractionLimits

__all__ = ["extract"]

# Restricting PIL to these keeps exotic decoders (EPS runs Ghostscript) out of reach.
PIL_FORMATS = ["PNG", "JPEG", "TIFF", "GIF", "BMP", "WEBP", "HEIF"]
_heif_registered = False
# Damaged, or a variant no viewer but its maker's reads: camera raw files are TIFFs to a sniffer,
# iPhone app icons are "crushed" PNGs, a Live Photo's HEIC can be a container without a picture.
_UNREADABLE = "the picture could not be decoded: it is damaged, or a variant docflow cannot decode (a camera raw file, an app's private PNG)"


def extract(path: Path, ctx: ExtractContext) -> Extraction:
    limits = ctx.limits
    out = Collector(limits)
    # PIL's own guard (process-wide, raising above twice its value) is only a backstop behind the
    # explicit check in load_frame, which names the size. Raise it with a configured limit above
    # the default so it never refuses images that settings.max_pixels allows.
    Image.MAX_IMAGE_PIXELS = max(limits.max_pixels, ExtractionLimits().max_pixels)
    with path.open("rb") as fh:
        try:
            image = open_image(fh)
        except Image.DecompressionBombError as exc:
            raise PermanentError(_pil_bomb_message(exc)) from exc
        except (OSError, SyntaxError, ValueError, EOFError, TypeError) as exc:
            raise PermanentError(f"unreadable image: {_UNREADABLE} ({exc})") from exc
        with image:
            # Only TIFF means "one page per frame"; other multi-frame images are animations.
            try:
                frames = getattr(image, "n_frames", 1) if image.format == "TIFF" else 1
            except (OSError, SyntaxError, ValueError, EOFError, TypeError) as exc:  # camera raw "TIFFs"
                raise PermanentError(f"unreadable image: {_UNREADABLE} ({exc})") from exc
            if frames > limits.max_pages:
                raise PermanentError(
                    f"too many pages: the TIFF has {frames:,} pages, over the limit of {limits.max_pages:,}"
                )
            for index in range(frames):
                gray, dpi = load_frame(image, index, limits)
                text = ocr_image(gray, dpi=dpi)
                del gray
                paragraph_elements(ocr_paragraphs(text), page=index + 1, out=out)
    return Extraction("image", frames, out.elements, ocr_pages=frames, text_pages=0)


def _bomb_message(size: tuple[int, int], limits: ExtractionLimits) -> str:
    return (
        f"image too large: {size[0]:,} x {size[1]:,} pixels exceeds the {limits.max_pixels:,} "
        "pixel limit (possible decompression bomb)"
    )


def _pil_bomb_message(exc: Exception) -> str:
    # PIL raised before the size was known to us; its message carries both numbers.
    numbers = [int(n) for n in re.findall(r"\d+", str(exc))]
    if len(numbers) >= 2:
        return (
            f"image too large: {numbers[0]:,} pixels exceeds the decoder's {numbers[1]:,} pixel "
            "safety limit (possible decompression bomb)"
        )
    return "image too large: it exceeds the decoder's pixel safety limit (possible decompression bomb)"


def open_image(source: Any) -> Image.Image:
    """PIL's lazy open of a file or stream, restricted to :data:`PIL_FORMATS` (HEIF included)."""
    global _heif_registered
    if not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()  # idempotent; adds the "HEIF" format to PIL
        _heif_registered = True
    return Image.open(source, formats=PIL_FORMATS)


def load_frame(image: Image.Image, index: int, limits: ExtractionLimits) -> tuple[Image.Image, int | None]:
    """Decode one frame to 8-bit grayscale on white, after checking its declared size."""
    try:
        if index:
            image.seek(index)
        width, height = image.size
        if width * height > limits.max_pixels:
            raise PermanentError(_bomb_message(image.size, limits))
        frame = ImageOps.exif_transpose(image) if image.format in ("JPEG", "MPO", "TIFF", "HEIF") else image
        gray = _to_gray(frame)
    except Image.DecompressionBombError as exc:
        raise PermanentError(_pil_bomb_message(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError, TypeError) as exc:  # TypeError: PIL on camera raw "TIFFs"
        where = f" (page {index + 1})" if index else ""
        if "truncated" in str(exc) or isinstance(exc, EOFError):
            raise PermanentError(f"corrupt image{where}: the file is truncated or damaged ({exc})") from exc
        raise PermanentError(f"unreadable image{where}: {_UNREADABLE} ({exc})") from exc
    if max(gray.size) > MAX_OCR_SIDE:
        scale = MAX_OCR_SIDE / max(gray.size)
        gray = gray.resize((max(1, int(gray.width * scale)), max(1, int(gray.height * scale))))
    dpi = image.info.get("dpi", (0, 0))[0] if isinstance(image.info.get("dpi"), tuple) else 0
    return gray, (int(dpi) if dpi and 70 <= dpi <= 2400 else None)


def _to_gray(frame: Image.Image) -> Image.Image:
    mode = frame.mode
    if mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        import numpy as np

        values = np.asarray(frame, dtype=np.float64)
        top = float(values.max()) or 1.0
        return Image.fromarray((values * (255.0 / top)).clip(0, 255).astype(np.uint8), "L")
    if "A" in mode or "transparency" in frame.info:
        # Transparent pixels would otherwise turn black; scans are read as ink on white paper.
        rgba = frame.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("L")
    return frame.convert("L")
