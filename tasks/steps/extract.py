"""Extraction step: turn one stored file into ordered, typed text elements.

Guarantees:

* Pure: no Celery, Prefect or database; reads only ``path`` (and writes only private temp
  files for e-mail attachments, removed before returning).
* Bad input never escapes as anything but :class:`~docflow.errors.PermanentError` whose message
  says plainly what is wrong ("encrypted PDF: ...", "corrupt PDF: ...", "empty file: 0 bytes").
  Environment problems (missing file, missing tessdata) and programming errors propagate as is.
* Every limit in :class:`ExtractionLimits` is enforced: file size up front, page count before any
  page is read, pixels before any image is decoded, text as it accumulates.
* PDFs are processed one page at a time; at most one rendered page is alive at once.
* Element pages satisfy ``1 <= page <= page_count``; ``ocr_pages + text_pages <= page_count``.

Thread safety: PDFium and the per-process tesseract instance are each guarded by a lock, so the
step may run in threads (Prefect's default task runner); OCR itself is then serialised per
process, which is the intended unit of parallelism.
"""

from __future__ import annotations

import codecs
import ctypes
import dataclasses
import email
import email.policy
import json
import math
import os
import re
import statistics
import tempfile
import threading
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import NoReturn

# Tesseract reads OMP_THREAD_LIMIT once, when libtesseract loads. One OpenMP thread per process
# is both faster overall on small machines and avoids oversubscribing cores that the worker pool
# already fills with processes. setdefault leaves an operator's explicit choice alone.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import docx  # noqa: E402  (imports below must follow the env var above)
import pypdfium2 as pdfium  # noqa: E402
import pypdfium2.raw as pdfium_c  # noqa: E402
from docx.opc.exceptions import PackageNotFoundError  # noqa: E402
from docx.table import Table  # noqa: E402
from lxml.etree import XMLSyntaxError  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from docflow.errors import PermanentError  # noqa: E402

# --- Public data types ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """One structural piece of extracted text, in reading order."""

    text: str
    kind: str  # "Title", "NarrativeText", "ListItem", "Table", "EmailHeader", "Attachment"
    page: int  # 1-based; 1 for formats without pages


@dataclass(frozen=True)
class ExtractionLimits:
    """Upper bounds that keep one hostile or oversized input from exhausting a worker."""

    max_bytes: int = 200 * 1024 * 1024
    max_pages: int = 2000
    max_pixels: int = 200_000_000  # per page/image, guards decompression bombs
    max_text_chars: int = 20_000_000
    ocr_dpi: int = 300


@dataclass
class Extraction:
    """What one file yielded. ``to_json``/``from_json`` round-trip exactly."""

    file_type: str  # "pdf" | "image" | "docx" | "eml" | "txt"
    page_count: int
    elements: list[Element]
    ocr_pages: int  # pages that went through tesseract
    text_pages: int  # pages read from a text layer (or a format that is text already)

    def text(self) -> str:
        return "\n\n".join(e.text for e in self.elements)

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": 1,
                "file_type": self.file_type,
                "page_count": self.page_count,
                "ocr_pages": self.ocr_pages,
                "text_pages": self.text_pages,
                "elements": [dataclasses.asdict(e) for e in self.elements],
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str) -> Extraction:
        """Inverse of :meth:`to_json`; raises ``ValueError`` on anything it did not write."""
        try:
            data = json.loads(raw)
            if data.get("version") != 1:
                raise ValueError(f"unknown extraction format version {data.get('version')!r}")
            return cls(
                file_type=str(data["file_type"]),
                page_count=int(data["page_count"]),
                ocr_pages=int(data["ocr_pages"]),
                text_pages=int(data["text_pages"]),
                elements=[
                    Element(text=str(e["text"]), kind=str(e["kind"]), page=int(e["page"]))
                    for e in data["elements"]
                ],
            )
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a serialised Extraction: {exc}") from exc


# --- OCR configuration ---------------------------------------------------------------------------

TESSDATA_DIR = Path("/usr/share/tesseract-ocr/5/tessdata")
OCR_LANG = "eng"

# A text layer with fewer meaningful characters than this is treated as absent (scanner stamps,
# page numbers) and the page is OCRed instead.
_MIN_TEXT_LAYER_CHARS = 20
# Tesseract (and leptonica) refuse images wider or taller than this.
_MAX_OCR_SIDE = 32767
_MIN_RENDER_DPI = 72
_MAX_ATTACHMENT_DEPTH = 3
_MAX_ATTACHMENTS = 100
# Real mail nests a handful of multiparts; thousands of levels only exist to exhaust recursion in
# the parser and in every walk over the tree.
_MAX_MIME_DEPTH = 50
# A .docx holds tens of parts; an archive with more is not a Word document worth opening.
_MAX_ZIP_ENTRIES = 10_000
_HEAD_BYTES = 64 * 1024

_ocr_lock = threading.Lock()
_ocr_api = None
_ocr_pid: int | None = None
# PDFium is not thread-safe at all: every call into it, including close, goes through this lock.
_pdfium_lock = threading.RLock()

# PIL's own guard is process-wide; aligning it with the default limit makes both agree. The
# per-call ``max_pixels`` is checked explicitly before decoding, and PIL's DecompressionBombError
# (raised above twice this value) is translated like any other bomb.
Image.MAX_IMAGE_PIXELS = ExtractionLimits().max_pixels


def configure_ocr(*, tessdata_dir: Path, lang: str = "eng") -> None:
    """Point OCR at another tessdata directory/language (from settings) for this process."""
    global TESSDATA_DIR, OCR_LANG, _ocr_api
    with _ocr_lock:
        # Called before every document: keep the warm engine unless the configuration changed.
        if (Path(tessdata_dir), lang) != (TESSDATA_DIR, OCR_LANG):
            TESSDATA_DIR, OCR_LANG, _ocr_api = Path(tessdata_dir), lang, None


def _ocr(gray: Image.Image, *, dpi: int | None) -> str:
    """OCR one grayscale image with the process's single tesseract instance."""
    global _ocr_api, _ocr_pid
    data = gray.tobytes()
    with _ocr_lock:
        # A forked child must not share the parent's instance: re-create it per pid.
        if _ocr_api is None or _ocr_pid != os.getpid():
            import tesserocr

            _ocr_api = tesserocr.PyTessBaseAPI(
                path=str(TESSDATA_DIR), lang=OCR_LANG, psm=tesserocr.PSM.AUTO
            )
            _ocr_pid = os.getpid()
        api = _ocr_api
        try:
            api.SetImageBytes(data, gray.width, gray.height, 1, gray.width)
            if dpi:
                api.SetSourceResolution(int(dpi))
            return api.GetUTF8Text() or ""
        except RuntimeError as exc:
            raise PermanentError(f"OCR failed: tesseract could not read the image ({exc})") from exc
        finally:
            api.Clear()


# --- File type detection -------------------------------------------------------------------------

_MIME = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "eml": "message/rfc822",
    "txt": "text/plain",
}
_IMAGE_MAGIC: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
]
# Restricting PIL to these keeps exotic decoders (EPS runs Ghostscript) out of reach.
_PIL_FORMATS = ["PNG", "JPEG", "TIFF", "GIF", "BMP", "WEBP"]
# Things people upload that we recognise but do not read: (magic, offset, description).
_KNOWN_UNSUPPORTED: list[tuple[bytes, int, str]] = [
    (b"\x7fELF", 0, "a Linux executable"),
    (b"\xcf\xfa\xed\xfe", 0, "a macOS executable"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        0,
        "a legacy Office or Outlook file (.doc, .xls, .ppt, .msg)",
    ),
    (b"{\\rtf", 0, "an RTF document"),
    (b"%!PS", 0, "a PostScript file"),
    (b"\x1f\x8b", 0, "a gzip archive"),
    (b"\xfd7zXZ\x00", 0, "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive"),
    (b"Rar!\x1a\x07", 0, "a RAR archive"),
    (b"ustar", 257, "a tar archive"),
    (b"SQLite format 3\x00", 0, "an SQLite database"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", 0, "a JPEG 2000 image"),
    (b"ftypheic", 4, "a HEIC image"),
    (b"ftyp", 4, "a video or HEIC/AVIF image"),
    (b"ID3", 0, "an MP3 audio file"),
    (b"OggS", 0, "an Ogg audio/video file"),
    (b"fLaC", 0, "a FLAC audio file"),
]
_EXPECTED_BY_SUFFIX = {
    ".pdf": "a PDF",
    ".docx": "a Word .docx document",
    ".doc": "a Word document",
    ".eml": "an e-mail (.eml)",
    ".txt": "a text file",
    ".text": "a text file",
    ".png": "a PNG image",
    ".jpg": "a JPEG image",
    ".jpeg": "a JPEG image",
    ".tif": "a TIFF image",
    ".tiff": "a TIFF image",
    ".gif": "a GIF image",
    ".bmp": "a BMP image",
    ".webp": "a WEBP image",
}
_SUPPORTED = "PDF, PNG/JPEG/TIFF/GIF/BMP/WEBP image, Word .docx, .eml e-mail or plain text"
_BMP_DIB_SIZES = {12, 40, 52, 56, 64, 108, 124}
_EMAIL_HEADERS = {
    "from", "to", "cc", "subject", "date", "message-id", "mime-version", "received",
    "return-path", "delivered-to", "reply-to", "content-type", "x-mailer", "sender",
}  # fmt: skip
_HEADER_LINE = re.compile(rb"^([!-9;-~]+):")


def detect_file_type(*, data_head: bytes, filename: str) -> tuple[str, str]:
    """(file_type, mime) by content magic first; the filename only words the error message.

    Looks at up to 64 KiB. 8 KiB covers every sample; a .docx whose ``word/`` parts start
    later than the head is still recognised if it is named .docx.
    Recognises %PDF, PNG/JPEG/TIFF/GIF/BMP/WEBP magic, a zip holding ``word/`` parts (docx),
    RFC 822 headers (eml) and decodable text (txt). Raises :class:`PermanentError` for anything
    else, e.g. an .exe named .pdf: "unsupported file type: looks like a Windows executable,
    not a PDF".
    """
    head = data_head[:_HEAD_BYTES]
    if not head:
        raise PermanentError("empty file: 0 bytes")
    # The PDF spec tolerates junk before the header, and so do real readers.
    if b"%PDF-" in head[:1024]:
        return "pdf", _MIME["pdf"]
    for magic, mime in _IMAGE_MAGIC:
        if head.startswith(magic):
            return "image", mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "image/webp"
    if (
        head[:2] == b"BM"
        and len(head) >= 18
        and int.from_bytes(head[14:18], "little") in _BMP_DIB_SIZES
    ):
        return "image", "image/bmp"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _detect_zip(head, filename)

    expected = _EXPECTED_BY_SUFFIX.get(Path(filename or "").suffix.lower())
    for magic, offset, what in _KNOWN_UNSUPPORTED:
        if head[offset : offset + len(magic)] == magic:
            _unsupported(what, expected)
    is_text = _looks_like_text(head)
    # "MZ" alone is too weak a signature: plenty of text starts with those letters.
    if head[:2] == b"MZ" and not is_text:
        _unsupported("a Windows executable", expected)
    if _looks_like_email(head):
        return "eml", _MIME["eml"]
    if is_text:
        return "txt", _MIME["txt"]
    _unsupported("unrecognised binary data", expected)


def _unsupported(what: str, expected: str | None) -> NoReturn:
    if expected and expected != what:
        raise PermanentError(f"unsupported file type: looks like {what}, not {expected}")
    raise PermanentError(f"unsupported file type: looks like {what} (supported: {_SUPPORTED})")


def _detect_zip(head: bytes, filename: str) -> tuple[str, str]:
    # Only the local file headers near the start are visible here; Office writers put the main
    # parts first, and extraction re-checks the real archive anyway.
    if b"word/" in head:
        return "docx", _MIME["docx"]
    expected = _EXPECTED_BY_SUFFIX.get(Path(filename or "").suffix.lower())
    if b"[Content_Types].xml" in head and Path(filename or "").suffix.lower() == ".docx":
        return "docx", _MIME["docx"]
    if b"xl/" in head:
        _unsupported("an Excel workbook (.xlsx)", expected)
    if b"ppt/" in head:
        _unsupported("a PowerPoint presentation (.pptx)", expected)
    if b"mimetypeapplication/vnd.oasis.opendocument" in head:
        _unsupported("an OpenDocument file", expected)
    if b"mimetypeapplication/epub+zip" in head:
        _unsupported("an EPUB e-book", expected)
    _unsupported("a ZIP archive", expected)


def _looks_like_email(head: bytes) -> bool:
    known = 0
    lines = head.splitlines()
    if lines and lines[0].startswith(b"From "):  # mbox separator line
        lines = lines[1:]
    for line in lines[:200]:
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t"):  # folded continuation of the previous header
            continue
        match = _HEADER_LINE.match(line)
        if not match:
            return False
        known += match.group(1).decode("ascii").lower() in _EMAIL_HEADERS
    return known >= 2


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    sample = head[:8192]
    half = max(1, len(sample) // 2)
    nul_even, nul_odd = sample[0::2].count(0), sample[1::2].count(0)
    utf16_le = nul_odd > 0.4 * half and nul_even < 0.05 * half
    utf16_be = nul_even > 0.4 * half and nul_odd < 0.05 * half
    if not (utf16_le or utf16_be) and sample.count(0) > len(sample) * 0.01:
        return False  # NULs anywhere but every other byte (BOM-less UTF-16) mean binary
    sample = sample.replace(b"\x00", b"")
    if not sample:
        return False
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    if controls > len(sample) * 0.02:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return True
    except UnicodeDecodeError:
        # Legacy 8-bit text is still mostly ASCII; binary data is not.
        return sum(1 for b in sample if b >= 0x80) < len(sample) * 0.3


# --- Entry point ---------------------------------------------------------------------------------


@dataclass
class _Budget:
    """Counters shared by a file and everything nested in it (e-mail attachments)."""

    attachment_bytes: int = 0
    attachments: int = 0


def extract_document(
    *,
    path: Path,
    file_type: str,
    limits: ExtractionLimits = ExtractionLimits(),  # noqa: B008
) -> Extraction:
    """Extract ``path`` (already classified by :func:`detect_file_type`) into elements.

    Raises :class:`PermanentError` for bad input (empty, too large, encrypted, corrupt, no text,
    over a limit) and ``ValueError`` for an unknown ``file_type`` (a caller bug).
    """
    return _extract(Path(path), file_type, limits, _Budget(), depth=0)


def _extract(
    path: Path, file_type: str, limits: ExtractionLimits, budget: _Budget, *, depth: int
) -> Extraction:
    if file_type not in _EXTRACTORS:
        raise ValueError(f"unknown file_type {file_type!r}")
    size = path.stat().st_size
    if size == 0:
        raise PermanentError("empty file: 0 bytes")
    if size > limits.max_bytes:
        raise PermanentError(
            f"file too large: {_size(size)} exceeds the {_size(limits.max_bytes)} limit"
        )
    result = _EXTRACTORS[file_type](path, limits, budget, depth)
    if not any(e.text.strip() for e in result.elements):
        raise PermanentError(_NO_TEXT.get(file_type, "no text could be extracted"))
    return result


_NO_TEXT = {
    "pdf": "no text could be extracted: the PDF has no text layer and OCR found no text",
    "image": "no text could be extracted: OCR found no text in the image",
    "docx": "no text could be extracted: the Word document has no text",
    "txt": "no text could be extracted: the text file is blank",
    "eml": "no text could be extracted: the e-mail has no headers, body or readable attachments",
}


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


class _Collector:
    """Accumulates elements and enforces the text limit as they arrive."""

    def __init__(self, limits: ExtractionLimits) -> None:
        self.limit = limits.max_text_chars
        self.elements: list[Element] = []
        self.chars = 0

    def add(self, text: str, kind: str, page: int) -> None:
        # NUL can arrive from e-mail bodies and headers and from PDF text layers; PostgreSQL text
        # columns cannot hold it, so it would fail the next stage with a database error instead.
        text = text.replace("\x00", "").strip()
        if not text:
            return
        self.chars += len(text)
        if self.chars > self.limit:
            raise PermanentError(
                f"too much text: more than {self.limit:,} characters extracted, over the limit"
            )
        self.elements.append(Element(text=text, kind=kind, page=page))

    def extend(self, elements: Iterable[Element], *, page_offset: int = 0) -> None:
        for e in elements:
            self.add(e.text, e.kind, e.page + page_offset)


# --- Shared text shaping -------------------------------------------------------------------------

_BULLET = re.compile(r"^\s*(?:[\u2022\u25e6\u25aa\u2023\u2043\u00b7*\u2013-])\s+")
_TERMINAL = tuple(".!?:;,")


def _join_lines(lines: Iterable[str]) -> str:
    """Join layout-wrapped lines into one paragraph, undoing end-of-line hyphenation."""
    out = ""
    for line in lines:
        line = " ".join(line.split())
        if not line:
            continue
        if out.endswith(("-", "\u00ad")) and line[:1].islower() and out[-2:-1].isalpha():
            out = out[:-1] + line
        else:
            out = f"{out} {line}" if out else line
    return out


def _classify(text: str, *, first_on_page: bool, single_line: bool) -> str:
    if _BULLET.match(text):
        return "ListItem"
    # A short, unpunctuated opening line is a heading far more often than it is prose.
    if first_on_page and single_line and len(text.split()) <= 10 and not text.endswith(_TERMINAL):
        return "Title"
    return "NarrativeText"


# A line shorter than this share of the page's longest line ended before the margin: whatever
# follows it (an address line, a signature, a new paragraph) is not a layout wrap.
_SHORT_LINE = 0.6


def _paragraph_elements(text: str, *, page: int, out: _Collector) -> None:
    """Split plain text into paragraphs and classify each.

    Paragraphs end at blank lines, before bulleted lines and after lines too short to have been
    wrapped by layout; the remaining line breaks are joined as wraps.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    longest = max((len(line.strip()) for line in text.split("\n")), default=0)
    groups: list[list[str]] = []
    for block in re.split(r"\n[ \t]*\n", text):
        group: list[str] = []
        for line in block.split("\n"):
            if not line.strip():
                continue
            if group and (_BULLET.match(line) or len(group[-1].strip()) < _SHORT_LINE * longest):
                groups.append(group)
                group = []
            group.append(line)
        if group:
            groups.append(group)
    for index, group in enumerate(groups):
        _emit(group, page=page, first=index == 0, out=out)


def _emit(lines: list[str], *, page: int, first: bool, out: _Collector) -> None:
    text = _join_lines(lines)
    kind = _classify(text, first_on_page=first, single_line=len(lines) == 1)
    out.add(_BULLET.sub("", text) if kind == "ListItem" else text, kind, page)


# --- TXT -----------------------------------------------------------------------------------------


def _decode_text(data: bytes) -> str:
    """Decode bytes of unknown encoding: BOM, then UTF-8, then cp1252, then Latin-1 (total)."""
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            text = data.decode(codec, errors="replace")
            break
    else:
        for codec in ("utf-8", "cp1252", "latin-1"):
            try:
                text = data.decode(codec)
                break
            except UnicodeDecodeError:
                continue
    # NULs come from BOM-less UTF-16 and binary junk; nothing downstream wants them.
    return text.replace("\x00", "")


def _extract_txt(path: Path, limits: ExtractionLimits, budget: _Budget, depth: int) -> Extraction:
    text = _decode_text(path.read_bytes())
    # Elements keep every non-space character, so this count is a lower bound on their size:
    # refusing here spares building paragraphs for a file that must fail anyway.
    visible = len(text) - sum(text.count(ws) for ws in " \t\n\r\f\v")
    if visible > limits.max_text_chars:
        raise PermanentError(
            f"too much text: more than {limits.max_text_chars:,} characters extracted, over the "
            "limit"
        )
    out = _Collector(limits)
    if re.match(r"\s*<(?:!doctype\s+html|html[\s>])", text[:1024], re.IGNORECASE):
        text = _html_to_text(text)
    _paragraph_elements(text, page=1, out=out)
    return Extraction("txt", 1, out.elements, ocr_pages=0, text_pages=1)


class _HTMLText(HTMLParser):
    _BLOCK = {
        "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
        "blockquote", "pre", "section", "article", "header", "footer", "hr", "title",
    }  # fmt: skip
    _SKIP = {"script", "style", "head", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n\n- ")
        elif tag in self._BLOCK:
            self.parts.append("\n\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))


def _html_to_text(markup: str) -> str:
    parser = _HTMLText()
    try:
        parser.feed(markup)
        parser.close()
    except (AssertionError, ValueError):  # html.parser's reaction to some broken markup
        pass
    # Entities are already decoded (convert_charrefs); unescaping again would corrupt "&amp;lt;".
    return re.sub(r"\n[ \t]+", "\n", "".join(parser.parts))


# --- PDF -----------------------------------------------------------------------------------------


@dataclass
class _Line:
    text: str
    y: float  # baseline of the first visible char, PDF units (y grows upwards)
    size: float  # font size of the first visible char
    x0: float  # left edge (origin of the first visible char)
    x1: float  # right edge of the last visible char


def _extract_pdf(path: Path, limits: ExtractionLimits, budget: _Budget, depth: int) -> Extraction:
    out = _Collector(limits)
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
                f"too many pages: the PDF has {page_count:,} pages, over the limit of "
                f"{limits.max_pages:,}"
            )
        for index in range(page_count):
            number = index + 1
            lines, gray, dpi = _read_page(pdf, index, limits)
            if gray is None:
                text_pages += 1
                _text_layer_elements(lines, page=number, out=out)
            else:
                ocr_pages += 1
                text = _ocr(gray, dpi=dpi)
                del gray  # one page image alive at a time
                _paragraph_elements(_ocr_paragraphs(text), page=number, out=out)
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
            raise PermanentError(
                "encrypted PDF: it uses an unsupported security handler (DRM)"
            ) from exc
        if code == pdfium_c.FPDF_ERR_FILE:
            raise OSError(f"PDF file could not be opened: {path}") from exc
        reason = {
            pdfium_c.FPDF_ERR_FORMAT: "the file structure is damaged or truncated",
            pdfium_c.FPDF_ERR_PAGE: "the page tree is missing or damaged",
        }.get(code, "PDFium could not parse it")
        raise PermanentError(f"corrupt PDF: {reason}") from exc


def _read_page(
    pdf: pdfium.PdfDocument, index: int, limits: ExtractionLimits
) -> tuple[list[_Line], Image.Image | None, int]:
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
            if meaningful >= _MIN_TEXT_LAYER_CHARS and not (
                meaningful < 200 and _image_coverage(page) > 0.5
            ):
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
            raise PermanentError(
                f"corrupt PDF: page {number} could not be read or rendered"
            ) from exc
        finally:
            page.close()


def _render_dpi(width: float, height: float, limits: ExtractionLimits, *, number: int) -> int:
    """Highest DPI <= ocr_dpi whose bitmap fits max_pixels and tesseract's side limit."""
    if not (width > 0 and height > 0) or not math.isfinite(width * height):
        raise PermanentError(f"corrupt PDF: page {number} has an invalid size")
    by_pixels = 72 * math.sqrt(limits.max_pixels / (width * height))
    by_side = 72 * _MAX_OCR_SIDE / max(width, height)
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
    return sum(
        1
        for ch in text
        if not ch.isspace() and unicodedata.category(ch)[0] in "LNPS" and ch != "\ufffd"
    )


def _text_lines(textpage: pdfium.PdfTextPage) -> list[_Line]:
    """The text layer as lines, with each line's baseline and font size for paragraphing."""
    raw = textpage.raw
    x, y = ctypes.c_double(), ctypes.c_double()
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    lines: list[_Line] = []
    chars: list[str] = []
    anchor: tuple[float, float, float] | None = None
    last_visible = -1

    def flush() -> None:
        nonlocal chars, anchor, last_visible
        # PDFium keeps a word hyphenated across lines on one line; rejoin it unless the hyphen
        # is a real one ("Acme-Globex") rather than a break ("hyphen-ated").
        text = re.sub("\u00ad(?=[a-z])", "", "".join(chars)).replace("\u00ad", "-")
        if text.strip() and anchor is not None:
            pdfium_c.FPDFText_GetCharBox(
                raw, last_visible, *(ctypes.byref(v) for v in (left, right, bottom, top))
            )
            x0, baseline, size = anchor
            lines.append(_Line(text, y=baseline, size=size, x0=x0, x1=max(right.value, x0)))
        chars, anchor, last_visible = [], None, -1

    for i in range(pdfium_c.FPDFText_CountChars(raw)):
        code = pdfium_c.FPDFText_GetUnicode(raw, i)
        if code in (0x0A, 0x0D):  # PDFium's line breaks (generated or in the content)
            flush()
            continue
        ch = chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        if code in (0x02, 0xAD) or (ch == "-" and pdfium_c.FPDFText_IsHyphen(raw, i) == 1):
            ch = "\u00ad"  # a line-end hyphen; resolved in flush()
        if not ch.isspace():
            last_visible = i
            if anchor is None:
                pdfium_c.FPDFText_GetCharOrigin(raw, i, ctypes.byref(x), ctypes.byref(y))
                anchor = (x.value, y.value, float(pdfium_c.FPDFText_GetFontSize(raw, i)))
        chars.append(ch)
    flush()
    return lines


def _text_layer_elements(lines: list[_Line], *, page: int, out: _Collector) -> None:
    """Group text-layer lines into paragraphs by baseline gaps and font-size changes."""
    if not lines:
        return
    sizes = [line.size for line in lines if line.size > 0]
    body_size = statistics.median(sizes) if sizes else 0.0
    widest = max(line.x1 - line.x0 for line in lines)
    leading = _normal_leading(lines)

    paragraphs: list[list[_Line]] = [[lines[0]]]
    for prev, line in zip(lines, lines[1:], strict=False):
        pitch = prev.y - line.y
        size = max(prev.size, line.size, 1.0)
        new_paragraph = (
            pitch <= 0  # moved up: a new column or out-of-order content
            or pitch > 1.3 * leading * size
            or abs(prev.size - line.size) > 0.15 * size
            or prev.x1 - prev.x0 < _SHORT_LINE * widest
            or bool(_BULLET.match(line.text))
        )
        if new_paragraph:
            paragraphs.append([line])
        else:
            paragraphs[-1].append(line)

    for index, para in enumerate(paragraphs):
        text = _join_lines(line.text for line in para)
        is_big = body_size > 0 and para[0].size >= 1.2 * body_size
        if is_big and len(para) <= 3 and len(text) <= 200:
            kind = "Title"
        else:
            kind = _classify(text, first_on_page=index == 0, single_line=len(para) == 1)
        out.add(_BULLET.sub("", text) if kind == "ListItem" else text, kind, page)


def _normal_leading(lines: list[_Line]) -> float:
    """Typical line pitch within a paragraph, as a multiple of the font size.

    The tightest cluster of pitches is the in-paragraph spacing; wider ones are paragraph gaps.
    Pitches under 0.8x the font size are sub/superscripts or overlapping runs, not lines.
    """
    ratios = [
        (a.y - b.y) / a.size
        for a, b in zip(lines, lines[1:], strict=False)
        if a.size > 0 and abs(a.size - b.size) <= 0.15 * a.size and a.y - b.y >= 0.8 * a.size
    ]
    if not ratios:
        return 1.25
    tightest = min(ratios)
    return statistics.median(r for r in ratios if r <= 1.25 * tightest)


def _ocr_paragraphs(text: str) -> str:
    # Tesseract separates blocks with blank lines; stray form feeds end its pages.
    return text.replace("\f", "")


# --- Images --------------------------------------------------------------------------------------


def _extract_image(path: Path, limits: ExtractionLimits, budget: _Budget, depth: int) -> Extraction:
    out = _Collector(limits)
    # PIL's own guard (process-wide, raising above twice its value) is only a backstop behind the
    # explicit check in _load_frame, which names the size. Raise it with a configured limit above
    # the default so it never refuses images that settings.max_pixels allows.
    Image.MAX_IMAGE_PIXELS = max(limits.max_pixels, ExtractionLimits().max_pixels)
    with path.open("rb") as fh:
        try:
            image = Image.open(fh, formats=_PIL_FORMATS)
        except Image.DecompressionBombError as exc:
            raise PermanentError(_pil_bomb_message(exc)) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise PermanentError(f"corrupt image: the file could not be decoded ({exc})") from exc
        with image:
            # Only TIFF means "one page per frame"; other multi-frame images are animations.
            frames = getattr(image, "n_frames", 1) if image.format == "TIFF" else 1
            if frames > limits.max_pages:
                raise PermanentError(
                    f"too many pages: the TIFF has {frames:,} pages, over the limit of "
                    f"{limits.max_pages:,}"
                )
            for index in range(frames):
                gray, dpi = _load_frame(image, index, limits)
                text = _ocr(gray, dpi=dpi)
                del gray
                _paragraph_elements(_ocr_paragraphs(text), page=index + 1, out=out)
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
    return (
        "image too large: it exceeds the decoder's pixel safety limit (possible decompression bomb)"
    )


def _load_frame(
    image: Image.Image, index: int, limits: ExtractionLimits
) -> tuple[Image.Image, int | None]:
    """Decode one frame to 8-bit grayscale on white, after checking its declared size."""
    try:
        if index:
            image.seek(index)
        width, height = image.size
        if width * height > limits.max_pixels:
            raise PermanentError(_bomb_message(image.size, limits))
        frame = ImageOps.exif_transpose(image) if image.format in ("JPEG", "MPO", "TIFF") else image
        gray = _to_gray(frame)
    except Image.DecompressionBombError as exc:
        raise PermanentError(_pil_bomb_message(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        where = f" (page {index + 1})" if index else ""
        raise PermanentError(
            f"corrupt image{where}: the file is truncated or damaged ({exc})"
        ) from exc
    if max(gray.size) > _MAX_OCR_SIDE:
        scale = _MAX_OCR_SIDE / max(gray.size)
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


# --- DOCX ----------------------------------------------------------------------------------------


def _extract_docx(path: Path, limits: ExtractionLimits, budget: _Budget, depth: int) -> Extraction:
    # unstructured's partition_docx is not used: it classifies paragraphs with spaCy's
    # en_core_web_sm and, when that model is missing, downloads it from GitHub at run time and
    # writes into site-packages -- neither acceptable in an offline worker.
    _check_zip(path, limits)
    out = _Collector(limits)
    try:
        document = docx.Document(str(path))
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 -- python-docx raises anything on a malformed package
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


def _check_zip(path: Path, limits: ExtractionLimits) -> None:
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
                f"corrupt Word document: the archive has {len(infos):,} parts, over the limit of "
                f"{_MAX_ZIP_ENTRIES:,}"
            )
        if "word/document.xml" not in {info.filename for info in infos}:
            raise PermanentError("corrupt Word document: the archive has no word/document.xml")
        inflated = sum(info.file_size for info in infos)
        if inflated > limit:
            raise PermanentError(
                f"Word document too large: it unpacks to {_size(inflated)}, over the "
                f"{_size(limit)} limit (possible zip bomb)"
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


def _docx_kind(paragraph) -> str:
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style.startswith(("Heading", "Title", "Subtitle")):
        return "Title"
    if "List" in style or paragraph._p.pPr is not None and paragraph._p.pPr.numPr is not None:
        return "ListItem"
    return "NarrativeText"


def _join_docx_lines(text: str) -> str:
    # Soft line breaks inside a Word paragraph are layout, not structure.
    return " ".join(text.split())


def _table_text(table) -> str:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        seen: list = []  # the elements themselves: ids of freed lxml proxies get reused
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


# --- EML -----------------------------------------------------------------------------------------


def _extract_eml(path: Path, limits: ExtractionLimits, budget: _Budget, depth: int) -> Extraction:
    too_deep = f"malformed e-mail: MIME parts are nested more than {_MAX_MIME_DEPTH} levels deep"
    with path.open("rb") as fh:
        try:
            message = email.message_from_binary_file(fh, policy=email.policy.default)
        except RecursionError:
            # The stdlib parser recurses once per nesting level (~1000 levels exhaust the stack);
            # the limit below is far lower, so this input is over it too.
            raise PermanentError(too_deep) from None
    # Checked without recursion before get_body/_leaves recurse over the tree.
    stack: list[tuple[EmailMessage, int]] = [(message, 0)]
    while stack:
        part, level = stack.pop()
        if level > _MAX_MIME_DEPTH:
            raise PermanentError(too_deep)
        if part.is_multipart():
            payload = _safe(part.get_payload, [])
            stack.extend((sub, level + 1) for sub in payload if isinstance(sub, email.message.Message))
    return _extract_message(message, limits, budget, depth)


def _extract_message(
    message: EmailMessage, limits: ExtractionLimits, budget: _Budget, depth: int
) -> Extraction:
    out = _Collector(limits)
    header = "\n".join(
        f"{name}: {value}"
        for name in ("From", "To", "Cc", "Subject", "Date")
        if (value := _header(message, name))
    )
    out.add(header, "EmailHeader", 1)

    body = _safe(lambda: message.get_body(preferencelist=("plain", "html")), None)
    if body is not None:
        _paragraph_elements(_part_text(body), page=1, out=out)

    page_count, ocr_pages, text_pages = 1, 0, 1
    with tempfile.TemporaryDirectory(prefix="docflow-eml-") as tmp:
        for number, (part, name) in enumerate(_attachments(message, body), start=1):
            label = f"Attachment: {name}"
            # Attachments spend what is left of the file's page and text allowance.
            remaining = dataclasses.replace(
                limits,
                max_pages=limits.max_pages - page_count,
                max_text_chars=limits.max_text_chars - out.chars,
            )
            try:
                scratch = Path(tmp) / f"part{number}"
                nested = _extract_attachment(part, scratch, remaining, budget, depth)
            except PermanentError as exc:
                out.add(f"{label} (not extracted: {exc})", "Attachment", page_count)
                continue
            out.add(label, "Attachment", page_count + 1)
            out.extend(nested.elements, page_offset=page_count)
            page_count += nested.page_count
            ocr_pages += nested.ocr_pages
            text_pages += nested.text_pages
    return Extraction("eml", page_count, out.elements, ocr_pages=ocr_pages, text_pages=text_pages)


def _safe(call, default):
    """Run one call into the e-mail package, which raises odd errors on malformed messages."""
    try:
        return call()
    except Exception:  # noqa: BLE001 -- library edge: malformed input, never our own bug
        return default


def _header(message: EmailMessage, name: str) -> str:
    value = _safe(lambda: message.get(name), None)
    if value is None:
        return ""
    return " ".join(_safe(lambda: str(value), "").split())


def _part_text(part: EmailMessage) -> str:
    content = _safe(part.get_content, None)
    if not isinstance(content, str):  # unknown charset or broken transfer encoding
        content = _decode_text(_safe(lambda: part.get_payload(decode=True), b"") or b"")
    if part.get_content_type() == "text/html":
        content = _html_to_text(content)
    return content


def _attachments(
    message: EmailMessage, body: EmailMessage | None
) -> Iterator[tuple[EmailMessage, str]]:
    """Leaf parts that are attachments (not the body or its alternatives), with safe names."""
    number = 0
    for leaf, parent_type in _leaves(message, parent_type=""):
        if leaf is body:
            continue
        filename = _safe(leaf.get_filename, None)
        disposition = _safe(leaf.get_content_disposition, None)
        ctype = leaf.get_content_type()
        inline = not filename and disposition != "attachment"
        if (
            inline
            and ctype.startswith("text/")
            and (parent_type == "multipart/alternative" or ctype == "text/html")
        ):
            continue  # another rendering of the body
        if disposition != "attachment" and parent_type == "multipart/related":
            continue  # logos and images embedded in the HTML body, not documents
        number += 1
        if not filename and ctype == "message/rfc822":
            inner = _safe(lambda part=leaf: part.get_payload(0), None)
            subject = _header(inner, "Subject") if isinstance(inner, EmailMessage) else ""
            filename = f"forwarded e-mail {subject!r}" if subject else "forwarded e-mail"
        yield leaf, _sanitise_filename(filename, fallback=f"attachment-{number}")


def _leaves(part: EmailMessage, *, parent_type: str) -> Iterator[tuple[EmailMessage, str]]:
    ctype = part.get_content_type()
    if part.is_multipart() and ctype != "message/rfc822":
        for sub in _safe(lambda: list(part.iter_parts()), []):
            yield from _leaves(sub, parent_type=ctype)
    else:  # a forwarded e-mail (message/rfc822) is one attachment, not its parts
        yield part, parent_type


def _sanitise_filename(name: str | None, *, fallback: str) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split()).strip(". ")
    return name[:200] or fallback


def _extract_attachment(
    part: EmailMessage, scratch: Path, limits: ExtractionLimits, budget: _Budget, depth: int
) -> Extraction:
    """Extract one attachment under the shared budget; PermanentError means "skip this one"."""
    if limits.max_pages < 1 or limits.max_text_chars < 1:
        raise PermanentError("the page or text limit was reached before this attachment")
    if depth >= _MAX_ATTACHMENT_DEPTH:
        raise PermanentError(f"nested more than {_MAX_ATTACHMENT_DEPTH} levels deep")
    budget.attachments += 1
    if budget.attachments > _MAX_ATTACHMENTS:
        raise PermanentError(f"more than {_MAX_ATTACHMENTS} attachments")
    if part.get_content_type() == "message/rfc822":
        inner = _safe(lambda: part.get_payload(0), None)
        if not isinstance(inner, EmailMessage):
            raise PermanentError("the attached e-mail could not be parsed")
        return _extract_message(inner, limits, budget, depth + 1)

    data = _safe(lambda: part.get_payload(decode=True), None)
    if not data:
        raise PermanentError("empty attachment")
    budget.attachment_bytes += len(data)
    if budget.attachment_bytes > limits.max_bytes:
        raise PermanentError(f"attachments exceed the {_size(limits.max_bytes)} total size limit")
    filename = _safe(part.get_filename, "") or ""
    file_type, _ = detect_file_type(data_head=data[:_HEAD_BYTES], filename=filename)
    scratch.write_bytes(data)
    try:
        return _extract(scratch, file_type, limits, budget, depth=depth + 1)
    finally:
        scratch.unlink(missing_ok=True)


_EXTRACTORS = {
    "pdf": _extract_pdf,
    "image": _extract_image,
    "docx": _extract_docx,
    "eml": _extract_eml,
    "txt": _extract_txt,
}

__all__ = [
    "Element",
    "Extraction",
    "ExtractionLimits",
    "configure_ocr",
    "detect_file_type",
    "extract_document",
]
