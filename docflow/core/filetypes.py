"""File-type detection: which extractor a file needs, from its first bytes.

Deliberately light: only the standard library and :mod:`docflow.core.errors`, so the submit and
intake paths can sniff uploads without loading PDFium, PIL, python-docx or tesseract.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import NoReturn

from docflow.core.errors import PermanentError

__all__ = ["HEAD_BYTES", "detect_file_type"]

# How much of a file detection looks at; callers may pass less (8 KiB covers every sample).
HEAD_BYTES = 64 * 1024

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
    head = data_head[:HEAD_BYTES]
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
    if head[:2] == b"BM" and len(head) >= 18 and int.from_bytes(head[14:18], "little") in _BMP_DIB_SIZES:
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
