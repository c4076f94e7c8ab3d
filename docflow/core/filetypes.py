"""File-type detection: which extractor a file needs, from its first bytes.

Deliberately light: only the standard library and :mod:`docflow.core.errors`, so the submit and
intake paths can sniff uploads without loading PDFium, PIL, python-docx or tesseract.
"""

from __future__ import annotations

import codecs
import re
import struct
from pathlib import Path
from typing import NoReturn

from docflow.core.errors import PermanentError

__all__ = ["HEAD_BYTES", "READABLE_EXTENSIONS", "detect_file_type", "sniff_file"]

# How much of a file detection looks at: every entry reads this much (sniff_file), so a file is
# classified the same at intake, upload, submit and in the OCR stage.
HEAD_BYTES = 64 * 1024

_MIME = {
    "pdf": "application/pdf", "eml": "message/rfc822", "txt": "text/plain",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text", "epub": "application/epub+zip",
    "doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
    "msg": "application/vnd.ms-outlook", "rtf": "application/rtf", "html": "text/html", "xml": "application/xml",
    "md": "text/markdown", "csv": "text/csv", "tsv": "text/tab-separated-values", "json": "application/json",
    "ndjson": "application/x-ndjson", "rst": "text/x-rst", "org": "text/x-org", "zip": "application/zip",
    "p7m": "application/pkcs7-mime",
}  # fmt: skip
_IMAGE_MAGIC: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
]
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Things people upload that we recognise but do not read: (magic, offset, description).
_KNOWN_UNSUPPORTED: list[tuple[bytes, int, str]] = [
    (b"\x7fELF", 0, "a Linux executable"),
    (b"\xcf\xfa\xed\xfe", 0, "a macOS executable"),
    (b"%!PS", 0, "a PostScript file"),
    (b"\x1f\x8b", 0, "a gzip archive"),
    (b"\xfd7zXZ\x00", 0, "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive"),
    (b"Rar!\x1a\x07", 0, "a RAR archive"),
    (b"ustar", 257, "a tar archive"),
    (b"SQLite format 3\x00", 0, "an SQLite database"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", 0, "a JPEG 2000 image"),
    (b"\x09\x04\x06\x00", 0, "an Excel 4.0 worksheet (older than Excel 97: save it as .xlsx)"),
    (b"\x09\x02\x06\x00", 0, "an Excel 3.0 worksheet (older than Excel 97: save it as .xlsx)"),
    (b"ftyp", 4, "an MP4/QuickTime audio or video file, or an AVIF image"),
    (b"ID3", 0, "an MP3 audio file"),
    (b"OggS", 0, "an Ogg audio/video file"),
    (b"fLaC", 0, "a FLAC audio file"),
]
# What a name promises, for messages ("looks like X, not <this>").
_EXPECTED_BY_SUFFIX = {
    ".pdf": "a PDF", ".txt": "a text file", ".text": "a text file", ".eml": "an e-mail (.eml)",
    ".docx": "a Word .docx document", ".docm": "a macro-enabled Word document (.docm)",
    ".dotx": "a Word template (.dotx)", ".doc": "a Word .doc document", ".dot": "a Word template (.dot)",
    ".odt": "an OpenDocument text (.odt)", ".rtf": "an RTF document", ".epub": "an EPUB e-book",
    ".pptx": "a PowerPoint presentation (.pptx)", ".pptm": "a macro-enabled PowerPoint presentation (.pptm)",
    ".ppsx": "a PowerPoint show (.ppsx)", ".ppt": "a PowerPoint .ppt presentation",
    ".pps": "a PowerPoint show (.pps)", ".pot": "a PowerPoint template (.pot)",
    ".xlsx": "an Excel workbook (.xlsx)", ".xlsm": "a macro-enabled Excel workbook (.xlsm)",
    ".xltx": "an Excel template (.xltx)", ".xls": "an Excel .xls workbook", ".xlt": "an Excel template (.xlt)",
    ".csv": "a CSV file", ".tsv": "a TSV file", ".tab": "a TSV file", ".msg": "an Outlook message (.msg)",
    ".html": "an HTML page", ".htm": "an HTML page", ".xhtml": "an HTML page", ".xml": "an XML document",
    ".md": "a Markdown document", ".markdown": "a Markdown document", ".json": "a JSON file",
    ".ndjson": "an NDJSON file", ".jsonl": "an NDJSON file", ".rst": "a reStructuredText document",
    ".org": "an Org document", ".zip": "a ZIP archive", ".p7m": "an S/MIME message (.p7m)",
    ".p7s": "an S/MIME signature (.p7s)", ".heic": "a HEIC image", ".heif": "a HEIF image",
    ".png": "a PNG image", ".jpg": "a JPEG image", ".jpeg": "a JPEG image", ".tif": "a TIFF image",
    ".tiff": "a TIFF image", ".gif": "a GIF image", ".bmp": "a BMP image", ".webp": "a WEBP image",
}  # fmt: skip
# The kind of document a name promises. It matters for zip and OLE2 files only: there a name
# promising another kind (an .xlsx named .pptx) is refused, as Office refuses it, while a .docx
# named .doc is read as the .docx it is.
_KIND_BY_SUFFIX = {
    suffix: kind
    for kind, suffixes in {
        "text": ".docx .docm .dotx .doc .dot .odt .rtf",
        "slides": ".pptx .pptm .ppsx .ppt .pps .pot",
        "sheet": ".xlsx .xlsm .xltx .xls .xlt .csv .tsv .tab",
        "book": ".epub",
        "mail": ".eml .msg",
        "archive": ".zip",
    }.items()
    for suffix in suffixes.split()
}
# OLE2 (legacy Office, Outlook) files are told apart by name; the extractor checks the streams.
_OLE_BY_SUFFIX = {".doc": "doc", ".dot": "doc", ".xls": "xls", ".xlt": "xls", ".ppt": "ppt", ".pps": "ppt"}
_OLE_BY_SUFFIX |= {".pot": "ppt", ".msg": "msg"}
_OOXML_PARTS = {"word/": "docx", "ppt/": "pptx", "xl/": "xlsx"}
_ODF_KINDS = {
    b"spreadsheet": "an OpenDocument spreadsheet (.ods)",
    b"presentation": "an OpenDocument presentation (.odp)",
    b"graphics": "an OpenDocument drawing (.odg)",
}
_SUPPORTED = (
    "PDF, PNG/JPEG/TIFF/GIF/BMP/WEBP/HEIC image, Word .docx/.doc, PowerPoint .pptx/.ppt, Excel .xlsx/.xls, "
    "OpenDocument text (.odt), EPUB, RTF, HTML, XML, Markdown, reStructuredText, Org, CSV/TSV, JSON/NDJSON, "
    ".eml/.msg/S-MIME e-mail, ZIP archive or plain text"
)
# Extensions of the files docflow reads (for a directory scan), without the dot.
READABLE_EXTENSIONS: tuple[str, ...] = tuple(suffix[1:] for suffix in _EXPECTED_BY_SUFFIX)
_BMP_DIB_SIZES = {12, 40, 52, 56, 64, 108, 124}
_EMAIL_HEADERS = {
    "from", "to", "cc", "subject", "date", "message-id", "mime-version", "received",
    "return-path", "delivered-to", "reply-to", "content-type", "x-mailer", "sender",
}  # fmt: skip
_HEADER_LINE = re.compile(rb"^([!-9;-~]+):")
_HTML_START = re.compile(r"<!doctype\s+html|<html[\s>]")
# HEIF brands of still pictures (what phones take); "avif", "mp41"... are not read.
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
# The DER OID prefix of PKCS #7 content types (1.2.840.113549.1.7.x): S/MIME .p7m/.p7s bodies.
_PKCS7_OID = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07"
_JSON_START = re.compile(r'[\[{]\s*(?:["\[{\]}]|-?\d|true|false|null)')


def detect_file_type(*, data_head: bytes, filename: str) -> tuple[str, str]:
    """(file_type, mime) by content magic first; the filename decides only where content cannot.

    Looks at up to 64 KiB. Recognises %PDF, PNG/JPEG/TIFF/GIF/BMP/WEBP magic; zips by their parts
    (``word/`` docx, ``ppt/`` pptx, ``xl/`` xlsx) or their ``mimetype`` entry (odt, epub); OLE2
    files by suffix (.doc, .xls, .ppt, .msg; the extractor checks the streams); ``{\\rtf``; RFC 822
    headers (eml); and text: HTML, XML, then by suffix Markdown, CSV and TSV, else plain text.
    Raises :class:`PermanentError` for anything else, e.g. an .exe named .pdf: "unsupported file
    type: looks like a Windows executable, not a PDF", and for a zip or OLE2 file whose name
    promises another kind of document ("looks like an Excel workbook (.xlsx), not a PowerPoint
    presentation (.pptx)").
    """
    head = data_head[:HEAD_BYTES]
    if not head:
        raise PermanentError("empty file: 0 bytes")
    suffix = Path(filename or "").suffix.lower()
    expected = _EXPECTED_BY_SUFFIX.get(suffix)
    # The PDF spec tolerates junk before the header, and so do real readers.
    if b"%PDF-" in head[:1024]:
        return _found("pdf")
    for magic, mime in _IMAGE_MAGIC:
        if head.startswith(magic):
            return "image", mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image", "image/heic"
    if head[:1] == b"\x30" and _PKCS7_OID in head[:24]:
        return _found("p7m")  # the extractor tells signed (read) from enveloped (encrypted) and detached
    if head[:2] == b"BM" and len(head) >= 18 and int.from_bytes(head[14:18], "little") in _BMP_DIB_SIZES:
        return "image", "image/bmp"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _office(_zip_type(head, suffix, expected), suffix, expected)
    if head.startswith(_OLE_MAGIC):
        return _office(_ole_type(head, suffix, expected), suffix, expected)
    if head.startswith(b"{\\rtf"):
        return _found("rtf")
    for magic, offset, what in _KNOWN_UNSUPPORTED:
        if head[offset : offset + len(magic)] == magic:
            _unsupported(what, expected)
    is_text = _looks_like_text(head)
    # "MZ" alone is too weak a signature: plenty of text starts with those letters.
    if head[:2] == b"MZ" and not is_text:
        _unsupported("a Windows executable", expected)
    if _looks_like_email(head):
        return _found("eml")
    if is_text:
        return _found(_text_type(head, suffix))
    _unsupported("unrecognised binary data", expected)


def sniff_file(path: Path, *, filename: str) -> tuple[str, str]:
    """:func:`detect_file_type` of the file at ``path``, named ``filename``.

    ``filename`` is the name the file came with (an upload's, a submitted file's), not the name of
    wherever it was spooled to: where content cannot decide (CSV, Markdown, OLE2), the name does.
    """
    with open(path, "rb") as handle:
        return detect_file_type(data_head=handle.read(HEAD_BYTES), filename=filename)


def _found(file_type: str) -> tuple[str, str]:
    return file_type, _MIME[file_type]


def _unsupported(what: str, expected: str | None) -> NoReturn:
    if expected and expected != what:
        raise PermanentError(f"unsupported file type: looks like {what}, not {expected}")
    raise PermanentError(f"unsupported file type: looks like {what} (supported: {_SUPPORTED})")


def _office(file_type: str, suffix: str, expected: str | None) -> tuple[str, str]:
    """Accept a zip or OLE2 file type unless its name promises another kind of document."""
    # Each of these types is also the suffix its files have: ".docx", ".msg", ...
    kind = _KIND_BY_SUFFIX[f".{file_type}"]
    # Every zip-based document is a zip: under a .zip name it is read as what it is.
    if _KIND_BY_SUFFIX.get(suffix, kind) not in (kind, "archive"):
        _unsupported(_EXPECTED_BY_SUFFIX[f".{file_type}"], expected)
    return _found(file_type)


def _zip_type(head: bytes, suffix: str, expected: str | None) -> str:
    # Only the local file headers near the start are visible here; Office writers put the main
    # parts first, and extraction re-checks the real archive anyway.
    entries, walked = _zip_entries(head)
    # ODF and EPUB store an uncompressed "mimetype" entry first, holding the package's media type.
    if entries and entries[0][0] == "mimetype":
        mimetype = entries[0][1] or head[38:200]  # streamed writers leave its size unknown here
        if mimetype.startswith(b"application/epub+zip"):
            return "epub"
        if mimetype == b"application/vnd.oasis.opendocument.text" or mimetype.startswith(
            b"application/vnd.oasis.opendocument.textPK"
        ):
            return "odt"
        for kind, what in _ODF_KINDS.items():
            if mimetype.startswith(b"application/vnd.oasis.opendocument." + kind):
                _unsupported(what, expected)
        if mimetype.startswith(b"application/vnd.oasis.opendocument."):
            _unsupported("an OpenDocument file of a kind docflow does not read", expected)
    names = {name for name, _ in entries}
    # Written without their "mimetype" entry first (or at all): known by their parts and their name.
    # (Their container check says so plainly if the required part is missing.)
    if suffix in (".epub", ".odt"):
        return suffix[1:]
    if "xl/workbook.bin" in names:
        _unsupported("an Excel binary workbook (.xlsb)", expected)
    for name, _ in entries:
        for prefix, file_type in _OOXML_PARTS.items():
            if name.startswith(prefix):
                return file_type
    if not walked:  # a streamed writer or damage hid the later headers: the first part name seen wins
        found = [(head.find(prefix.encode()), file_type) for prefix, file_type in _OOXML_PARTS.items()]
        if hits := sorted(hit for hit in found if hit[0] >= 0):
            return hits[0][1]
    # An Office package whose main parts start later (not a ZIP that merely holds one, stored).
    if "[Content_Types].xml" in names or (not walked and b"[Content_Types].xml" in head):
        for file_type in ("docx", "pptx", "xlsx"):
            if _KIND_BY_SUFFIX.get(suffix) == _KIND_BY_SUFFIX[f".{file_type}"]:
                return file_type
        # Its parts are one document's (Visio, XPS, 3D...), not documents of their own.
        _unsupported("an Office Open XML package of a kind docflow does not read (Visio, XPS or similar)", expected)
    # A .zip (or a nameless one) is an archive of documents; a ZIP under another name is a format of
    # its own (Keynote, Java, StarOffice...) whose parts are not documents.
    if suffix and suffix != ".zip" and suffix not in _EXPECTED_BY_SUFFIX:
        _unsupported(f"a ZIP-based {suffix} file, a kind docflow does not read", expected)
    return "zip"


def _zip_entries(head: bytes) -> tuple[list[tuple[str, bytes]], bool]:
    """(name, stored data or b"") of the local file headers in ``head``, and whether the walk
    ended cleanly (at the central directory or the end of ``head``) rather than at a header
    whose sizes follow its data (a streamed writer) or at damage."""
    entries: list[tuple[str, bytes]] = []
    offset = 0
    while head[offset : offset + 4] == b"PK\x03\x04" and offset + 30 <= len(head):
        flags, method, size, name_length, extra_length = struct.unpack_from("<HH8xI4xHH", head, offset + 6)
        start = offset + 30 + name_length + extra_length
        name = head[offset + 30 : offset + 30 + name_length].decode("cp437", "replace")
        entries.append((name, head[start : start + size] if method == 0 else b""))
        if flags & 0x08:
            return entries, False
        offset = start + size
    return entries, offset >= len(head) or head[offset : offset + 4] in (b"PK\x01\x02", b"PK\x05\x06")


def _ole_type(head: bytes, suffix: str, expected: str | None) -> str:
    # Password-protected .docx/.xlsx/.pptx are OLE2 files holding an "EncryptedPackage" stream.
    if "EncryptedPackage".encode("utf-16-le") in head:
        raise PermanentError(
            "encrypted Office document: it is protected by a password; save it without one and submit it again"
        )
    file_type = _OLE_BY_SUFFIX.get(suffix)
    if file_type is None:
        what = "a legacy Office or Outlook file, or a password-protected Office document (OLE2)"
        named = f", not {expected}" if expected else ""
        raise PermanentError(
            f"unsupported file type: looks like {what}{named}; docflow reads these only named .doc, .xls, .ppt or .msg"
        )
    return file_type


def _text_type(head: bytes, suffix: str) -> str:
    """html, xml, md, csv or tsv by content and then by name; txt otherwise."""
    text = _head_text(head).lstrip("\ufeff \t\r\n").lower()
    start = text[:1024]
    if _HTML_START.match(start):
        return "html"
    if start.startswith("<?xml"):
        # XHTML is XML with an html root: read it as the web page it is.
        return "html" if _HTML_START.search(text[:4096]) else "xml"
    if start.startswith("<") and suffix in (".html", ".htm", ".xhtml"):
        return "html"
    if start.startswith("<") and suffix == ".xml":
        return "xml"
    if by_name := _TEXT_BY_SUFFIX.get(suffix):
        return by_name
    if _JSON_START.match(start):  # a JSON document under another name: NDJSON when its first line is whole
        first = start.partition("\n")[0].strip()
        return "ndjson" if first.startswith("{") and first.endswith("}") and "\n{" in text else "json"
    return "txt"


_TEXT_BY_SUFFIX = {
    ".md": "md", ".markdown": "md", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json",
    ".geojson": "json", ".ndjson": "ndjson", ".jsonl": "ndjson", ".rst": "rst", ".org": "org",
}  # fmt: skip


def _head_text(head: bytes) -> str:
    """The start of a text head, decoded well enough to recognise markup."""
    sample = head[:4096]
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if sample.startswith(bom):
            return sample.decode(codec, "replace")
    if sample[1::2].count(0) > len(sample) // 4:  # BOM-less UTF-16 LE
        return sample.decode("utf-16-le", "replace")
    if sample[0::2].count(0) > len(sample) // 4:
        return sample.decode("utf-16-be", "replace")
    return sample.decode("utf-8", "replace")


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
        # Legacy 8-bit text is mostly ASCII, or (Cyrillic, Greek, Arabic code pages) has the spaces
        # and line breaks of prose between its letters; binary data without controls has neither.
        high = sum(1 for b in sample if b >= 0x80)
        return high < len(sample) * 0.3 or sample.count(b" ") + sample.count(b"\n") > len(sample) * 0.08
