"""Guards for container formats, run before any parser opens them.

Zip (OOXML, OpenDocument, EPUB): refuse non-zips, zip bombs and macro-bearing packages before a
library inflates every part into memory. OLE2 (legacy Office, Outlook): the detected type came from
the file's suffix, so check that the streams inside agree, and refuse macros and encryption.
Only the standard library and olefile (a dependency of the formats extra, imported when an OLE2
file is checked); importing this module loads no format library.
"""

from __future__ import annotations

import copy
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docflow.core.errors import PermanentError
from tasks.steps.extract.types import ExtractionLimits, size_text

__all__ = [
    "DOCX",
    "EPUB",
    "ODT",
    "OLE_KINDS",
    "PPTX",
    "XLSX",
    "ZipFormat",
    "check_ole",
    "check_zip",
    "macro_message",
]

# A .docx holds tens of parts; an archive with more is not an office document worth opening.
_MAX_ZIP_ENTRIES = 10_000


@dataclass(frozen=True)
class ZipFormat:
    """How one zip-based format is named in messages, and the part it cannot do without."""

    noun: str  # "Word document": "corrupt Word document: ..."
    extension: str  # ".docx": "not a valid .docx (zip) file"
    required: str  # the main part, e.g. "word/document.xml"
    # Parts that carry executable macros: VBA in OOXML, Basic and scripts in OpenDocument.
    macro_parts: tuple[str, ...] = ()


_MACRO_INDEXES = ("script-lc.xml", "script-lb.xml", "dialog-lc.xml", "dialog-lb.xml")

DOCX = ZipFormat("Word document", ".docx", "word/document.xml", ("vbaproject.bin",))
PPTX = ZipFormat("PowerPoint presentation", ".pptx", "ppt/presentation.xml", ("vbaproject.bin",))
XLSX = ZipFormat("Excel workbook", ".xlsx", "xl/workbook.xml", ("vbaproject.bin",))
ODT = ZipFormat("OpenDocument text", ".odt", "content.xml", ("basic/", "scripts/"))
EPUB = ZipFormat("EPUB e-book", ".epub", "META-INF/container.xml")


def macro_message(noun: str, where: str) -> str:
    return f"macro-enabled {noun} (it holds {where}): docflow does not read documents that carry macros"


def check_zip(path: Path, limits: ExtractionLimits, fmt: ZipFormat = DOCX) -> list[str]:
    """Refuse non-zips, macro-bearing packages and zip bombs; return the entry names.

    The declared sizes are checked first (cheap). Then every part is inflated once, 64 KiB at a
    time, and thrown away, because declared sizes can lie: zipfile stops at the declared size,
    but python-docx (and python-pptx, openpyxl) read each part with ``read()``, which asks zlib for
    up to 2 GiB of output in one call -- a part declaring 4 KB that inflates to 1 GB costs a
    gigabyte of memory before zipfile cuts it to 4 KB. Read in small steps, the same lie costs
    64 KiB: the read goes on past the declared size, and a part that yields more is refused
    (:func:`_inflate`).
    """
    # XML compresses well, so a genuine document can inflate past max_bytes; 4x still bounds
    # memory while leaving room for that.
    limit = 4 * limits.max_bytes
    corrupt = f"corrupt {fmt.noun}"
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise PermanentError(f"{corrupt}: not a valid {fmt.extension} (zip) file") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > _MAX_ZIP_ENTRIES:
            raise PermanentError(
                f"{corrupt}: the archive has {len(infos):,} parts, over the limit of {_MAX_ZIP_ENTRIES:,}"
            )
        names = [info.filename for info in infos]
        for name in names:
            lowered = name.lower()
            # Library indexes and empty folders are left behind when macros are deleted: no code.
            if lowered.endswith(("/", *_MACRO_INDEXES)):
                continue
            if any(lowered.endswith(part) or lowered.startswith(part) for part in fmt.macro_parts):
                raise PermanentError(macro_message(fmt.noun, name))
        if fmt.required not in names:
            raise PermanentError(f"{corrupt}: the archive has no {fmt.required}")
        if _odf_encrypted(archive, names):
            raise PermanentError(
                f"encrypted {fmt.noun}: it is protected by a password; save it without one and submit it again"
            )
        inflated = sum(info.file_size for info in infos)
        if inflated > limit:
            raise PermanentError(
                f"{fmt.noun[0].upper()}{fmt.noun[1:]} too large: it unpacks to {size_text(inflated)}, over the "
                f"{size_text(limit)} limit (possible zip bomb)"
            )
        try:
            for info in infos:
                _inflate(archive, info, fmt)
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise PermanentError(f"{corrupt}: the zip container is damaged ({exc})") from exc
        except (NotImplementedError, RuntimeError) as exc:  # unknown compression, encrypted part
            raise PermanentError(f"{corrupt}: a part cannot be read ({exc})") from exc
    return names


_ODF_MANIFEST = "META-INF/manifest.xml"


def _odf_encrypted(archive: zipfile.ZipFile, names: list[str]) -> bool:
    """An OpenDocument file saved with a password: its manifest describes how each part is encrypted
    (its parts are ciphertext, which would otherwise read as a damaged zip)."""
    if _ODF_MANIFEST not in names:
        return False
    info = archive.getinfo(_ODF_MANIFEST)
    if info.file_size > 1024 * 1024:  # a manifest lists parts: a megabyte is not one
        return False
    try:
        return b"encryption-data" in archive.read(info)
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError):
        return False


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, fmt: ZipFormat) -> None:
    """Inflate one part in 64 KiB steps, throwing the output away; refuse one that lies about its size.

    When the part yields more than it declares, the first declared bytes decide how it is named:
    if they fail the CRC, the container is damaged (what reading the part as declared reports);
    if they pass, the size was chosen to get past the checks above: a zip bomb. (A part that ends
    within 64 KiB of its declared size fails zipfile's CRC check first: damaged, and harmless.)
    """
    probe = copy.copy(info)
    # Read on past the declared end, if there is more. Far enough past it that zipfile's own check
    # at that end (the CRC of what it read) cannot come before the first 64 KiB beyond it.
    probe.file_size = info.file_size + (1 << 20)
    crc = size = 0
    with archive.open(probe) as part:
        while chunk := part.read(1 << 16):
            if size + len(chunk) > info.file_size:
                if zlib.crc32(chunk[: info.file_size - size], crc) != info.CRC:
                    raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
                raise PermanentError(
                    f"{fmt.noun[0].upper()}{fmt.noun[1:]} too large: {info.filename} unpacks to more than the "
                    f"{size_text(info.file_size)} it declares (possible zip bomb)"
                )
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)


# --- OLE2 compound files ---------------------------------------------------------------------------

# file_type -> (what it is in messages, a top-level stream only that kind of file has).
OLE_KINDS: dict[str, tuple[str, str]] = {
    "doc": ("a Word .doc document", "worddocument"),
    "xls": ("an Excel .xls workbook", "workbook"),
    "ppt": ("a PowerPoint .ppt presentation", "powerpoint document"),
    "msg": ("an Outlook message (.msg)", "__properties_version1.0"),
}
# Storages that hold VBA: Word's "Macros", Excel's "_VBA_PROJECT_CUR", and "VBA" inside either
# (PowerPoint keeps its project in a "VBA" storage too).
_MACRO_STORAGES = {"macros", "_vba_project_cur", "vba"}


def check_ole(path: Path, file_type: str, *, noun: str) -> None:
    """Check that an OLE2 file named as ``file_type`` is one, and carries no macros or encryption.

    ``noun`` names the format in messages ("Word document"). Reads the directory, and the first
    bytes of the main stream where the format keeps its "encrypted" flag (Word's FIB, Excel's
    FILEPASS record; PowerPoint keeps an EncryptedSummary stream).
    """
    import olefile  # here, not at import: only legacy Office and Outlook files need it

    expected, marker = OLE_KINDS[file_type]
    try:
        with olefile.OleFileIO(str(path)) as ole:
            entries = [[part.lower() for part in entry] for entry in ole.listdir(streams=True, storages=True)]
            encrypted = _legacy_encrypted(ole, {entry[0] for entry in entries if len(entry) == 1})
    except MemoryError:
        raise
    except Exception as exc:  # olefile raises OSError, struct errors, IndexError on damage
        raise PermanentError(f"corrupt {noun}: the OLE2 container is damaged ({exc})") from exc
    top = {entry[0] for entry in entries if len(entry) == 1}
    if "encryptedpackage" in top or encrypted:
        raise PermanentError(
            "encrypted Office document: it is protected by a password; save it without one and submit it again"
        )
    for entry in entries:
        for part in entry:
            if part in _MACRO_STORAGES:
                raise PermanentError(macro_message(noun, "/".join(entry)))
    if file_type == "xls" and marker not in top and "book" in top:
        raise PermanentError(
            "unsupported file type: looks like an Excel 5.0/95 workbook (older than Excel 97: save it as .xlsx)"
        )
    if marker not in top:
        actual = next((what for what, stream in OLE_KINDS.values() if stream in top), None)
        if actual is not None:
            raise PermanentError(f"unsupported file type: looks like {actual}, not {expected}")
        raise PermanentError(f"corrupt {noun}: the OLE2 container has no {marker!r} stream")


def _legacy_encrypted(ole: Any, top: set[str]) -> bool:
    """Whether a legacy Word, Excel or PowerPoint file is protected by a password."""
    if "encryptedsummary" in top:  # PowerPoint 97-2003
        return True
    if "worddocument" in top:  # the FIB's flags word: fEncrypted
        head = ole.openstream("WordDocument").read(12)
        return len(head) == 12 and bool(int.from_bytes(head[10:12], "little") & 0x0100)
    if "workbook" in top:  # a FILEPASS record among the first records of the workbook globals
        data = ole.openstream("Workbook").read(1 << 16)
        offset = 0
        for _ in range(200):
            if offset + 4 > len(data):
                break
            kind, length = (
                int.from_bytes(data[offset : offset + 2], "little"),
                int.from_bytes(data[offset + 2 : offset + 4], "little"),
            )
            if kind == 0x002F:
                return True
            if kind == 0x000A:  # EOF of the globals
                break
            offset += 4 + length
    return False
