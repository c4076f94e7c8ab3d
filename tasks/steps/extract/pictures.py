"""Pictures inside documents, OCR'd when large enough to hold text.

A slide that is one screenshot, a scanned page pasted into a Word file, a table sent as a picture in
an e-mail: their words are only in the picture. Pictures inside .docx, .pptx, .xlsx and .odt
packages (``word/media``, ``ppt/media``, ``xl/media``, ``Pictures``) and pictures shown in an e-mail
body go through tesseract like an image file, when they are large enough: icons, bullets and logos
are skipped by size (:func:`worth_reading`), before their pixels are decoded. A picture on a slide
or a sheet is placed on that slide's or sheet's page (found through the package's relationships);
elsewhere on the page given. A picture that cannot be decoded or holds no text adds nothing: it
never fails its document. Every limit of extraction applies (pixels per picture, text).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections import defaultdict
from pathlib import Path

from docflow.core.errors import PermanentError
from tasks.steps.extract.types import Collector, ExtractContext

__all__ = ["MAX_PICTURES", "MIN_AREA", "MIN_SIDE", "image_text", "picture_text", "worth_reading"]

# Smaller than this on its shorter side is an icon or a rule; under this many pixels a logo or a
# bullet. A line of 12 pt text scanned at 150 dpi is ~25 px high, and a picture of a sentence
# of it is wider than 300 px.
MIN_SIDE = 40
MIN_AREA = 40_000
MAX_PICTURES = 50  # per document: OCR costs ~0.5 s a picture
_MAX_PICTURE_BYTES = 50 * 1024 * 1024
_MEDIA = re.compile(r"(?:word|ppt|xl)/media/[^/]+|Pictures/[^/]+", re.IGNORECASE)
_PAGE_PART = re.compile(r"(?:ppt/slides/slide|xl/worksheets/sheet)(\d+)\.xml")
_TARGET = re.compile(rb'Target="([^"]+)"')


def worth_reading(size: tuple[int, int]) -> bool:
    """Whether a picture of ``size`` (width, height) may hold readable text."""
    width, height = size
    return min(width, height) >= MIN_SIDE and width * height >= MIN_AREA


def picture_text(path: Path, ctx: ExtractContext, out: Collector, *, page: int, last_page: int) -> int:
    """OCR the pictures of the office package at ``path`` into ``out``; return how many gave text.

    A picture on a slide or sheet goes on that page (at most ``last_page``), any other on ``page``.
    Elements stay in page order. Not a zip (a legacy file read by the same code): nothing happens.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return 0
    read = 0
    with archive:
        names = [info.filename for info in archive.infolist() if _MEDIA.fullmatch(info.filename)]
        if not names:
            return 0
        pages = _pages_of_media(archive)
        for name in names[:MAX_PICTURES]:
            info = archive.getinfo(name)
            if info.file_size > _MAX_PICTURE_BYTES:
                continue
            try:
                data = archive.read(info)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
                continue  # the package guard passed it; a damaged picture is skipped, not fatal
            read += image_text(data, ctx, out, page=min(*pages.get(name, [page]), last_page))
    if read:
        out.elements.sort(key=lambda element: element.page)  # stable: text order within a page stays
    return read


def image_text(data: bytes, ctx: ExtractContext, out: Collector, *, page: int) -> int:
    """OCR one picture's bytes onto ``page`` of ``out`` when :func:`worth_reading`; 1 if it gave text."""
    from tasks.steps.extract.image import load_frame, open_image
    from tasks.steps.extract.ocr import ocr_image
    from tasks.steps.extract.shaping import ocr_paragraphs, paragraph_elements

    try:
        with open_image(io.BytesIO(data)) as image:
            if not worth_reading(image.size):
                return 0
            gray, dpi = load_frame(image, 0, ctx.limits)
    except PermanentError:
        return 0  # too many pixels or damaged: a picture inside a document never fails it
    except Exception:  # noqa: BLE001 - PIL's reaction to a format it cannot read (EMF, SVG, damage)
        return 0
    before = len(out.elements)
    paragraph_elements(ocr_paragraphs(ocr_image(gray, dpi=dpi)), page=page, out=out)
    return int(len(out.elements) > before)


def _pages_of_media(archive: zipfile.ZipFile) -> dict[str, list[int]]:
    """Media part -> the slides or sheets that show it, through the relationships (two hops at
    most: a slide's picture, or a sheet's drawing's picture)."""
    targets: dict[str, set[str]] = defaultdict(set)
    for name in archive.namelist():
        if not name.endswith(".rels") or "/_rels/" not in f"/{name}":
            continue
        folder, _, file = name.rpartition("_rels/")
        source = folder + file.removesuffix(".rels")
        try:
            xml = archive.read(name)[: 1 << 20]
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError):
            continue
        for target in _TARGET.findall(xml):
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(source), target.decode("utf-8", "replace")))
            targets[source].add(resolved.lstrip("/"))
    pages: dict[str, list[int]] = defaultdict(list)
    for source in list(targets):
        if not (match := _PAGE_PART.fullmatch(source)):
            continue
        number = int(match.group(1))
        for target in targets[source]:
            for media in {target} | targets.get(target, set()):
                pages[media].append(number)
    return pages
