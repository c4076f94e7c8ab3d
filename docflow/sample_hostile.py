"""Hostile variants of the formats in :mod:`docflow.sample_formats`, each with the error it must end in.

Built from the good samples' bytes: truncated files, names that lie, zip bombs (honest and lying
about their size), macro-bearing packages, encrypted and empty files. Only
:func:`docflow.sample_formats.write_hostile_format_samples` uses this module.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from docflow.sample_cfb import compound_file

__all__ = ["hostile_format_samples"]

_BOMB_BYTES = 1 << 30  # over 4x the default 200 MB file limit
# (name, data, None) is stored; (name, deflated data, (crc, inflated size)) is deflated.
_Entry = tuple[str, bytes, tuple[int, int] | None]


def hostile_format_samples(good: dict[str, bytes]) -> dict[str, tuple[bytes, str]]:
    """``{file name: (bytes, regex of the PermanentError)}`` from ``good`` samples keyed by type."""
    docm = _with_part(good["docx"], "word/vbaProject.bin", b"\xcc\x61" + bytes(64))
    return {
        "truncated.pptx": (_half(good["pptx"]), r"^corrupt PowerPoint presentation: not a valid \.pptx \(zip\) file$"),
        "truncated.xlsx": (_half(good["xlsx"]), r"^corrupt Excel workbook: not a valid \.xlsx \(zip\) file$"),
        "truncated.odt": (_half(good["odt"]), r"^corrupt OpenDocument text: not a valid \.odt \(zip\) file$"),
        "truncated.epub": (_half(good["epub"]), r"^corrupt EPUB e-book: not a valid \.epub \(zip\) file$"),
        "truncated.msg": (_half(good["msg"]), r"^corrupt Outlook message: "),
        "truncated.xml": (
            b'<?xml version="1.0"?>\n<manifest><shipment><origin>Rotterdam</or',
            r"^corrupt XML document: ",
        ),
        "truncated.rtf": (
            b"{\\rtf1\\ansi {\\b Engagement Letter}\\par Daniel Okafor",
            r"^corrupt RTF document: .*end of input",
        ),
        "workbook_named.pptx": (
            good["xlsx"],
            r"^unsupported file type: looks like an Excel workbook \(\.xlsx\), not a PowerPoint presentation \(\.pptx\)$",
        ),
        "program_named.pptx": (
            good["exe"],
            r"^unsupported file type: looks like a Windows executable, not a PowerPoint presentation \(\.pptx\)$",
        ),
        "message_named.doc": (
            good["msg"],
            r"^unsupported file type: looks like an Outlook message \(\.msg\), not a Word \.doc document$",
        ),
        "workbook_named.ppt": (
            compound_file({"Workbook": b"\x09\x08" + bytes(200)}),
            r"^unsupported file type: looks like an Excel \.xls workbook, not a PowerPoint \.ppt presentation$",
        ),
        "zip_bomb.xlsx": (
            _zip_bomb(),
            r"^Excel workbook too large: it unpacks to 1024\.\d MB, .*\(possible zip bomb\)$",
        ),
        "lying_zip_bomb.pptx": (
            _lying_bomb(good["pptx"]),
            r"^PowerPoint presentation too large: ppt/media/image1\.bin unpacks to more than the 4,096 bytes it declares "
            r"\(possible zip bomb\)$",
        ),
        "macro.docm": (docm, _macro("Word document", "word/vbaProject.bin")),
        "macro_renamed.docx": (docm, _macro("Word document", "word/vbaProject.bin")),
        "macro.xlsm": (
            _with_part(good["xlsx"], "xl/vbaProject.bin", b"\xcc\x61" + bytes(64)),
            _macro("Excel workbook", "xl/vbaProject.bin"),
        ),
        "macro.odt": (
            _with_part(
                _with_part(good["odt"], "Basic/script-lc.xml", b"<library/>"),
                "Basic/Standard/Module1.xml",
                b"<module/>",
            ),
            _macro("OpenDocument text", "Basic/Standard/Module1.xml"),
        ),
        "macro.doc": (
            compound_file({"WordDocument": bytes(600), "1Table": bytes(64), "Macros": {"VBA": {"dir": b"\x01"}}}),
            _macro("Word document", "macros"),
        ),
        "encrypted.xlsx": (
            compound_file({"EncryptionInfo": bytes(200), "EncryptedPackage": bytes(5000)}),
            r"^encrypted Office document: it is protected by a password",
        ),
        "spreadsheet_named.odt": (
            _stored_zip([("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"), ("content.xml", b"<x/>")]),
            r"^unsupported file type: looks like an OpenDocument spreadsheet \(\.ods\), not an OpenDocument text \(\.odt\)$",
        ),
        "garbage.msg": (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8,
            r"^corrupt Outlook message: the OLE2 container is damaged",
        ),
        "empty.csv": (b"", r"^empty file: 0 bytes$"),
        "blank.csv": (b",,\r\n , ,\r\n", r"^no text could be extracted: the CSV file has no cells with values$"),
        "not_rtf.rtf": (
            bytes(range(256)) * 8,
            r"^unsupported file type: looks like unrecognised binary data, not an RTF document$",
        ),
    }


def _macro(noun: str, where: str) -> str:
    return rf"^macro-enabled {noun} \(it holds {where}\S*\): docflow does not read documents that carry macros$"


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _with_part(package: bytes, name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        dst.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def _stored_zip(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def _zip_bomb() -> bytes:
    """An .xlsx whose worksheet honestly inflates to 1 GiB of zeros (about 1 MB on disk).

    Compressing a gigabyte takes seconds; after a full flush the compressor's output for the
    same input repeats, so one mebibyte is compressed once and its output repeated.
    """
    chunk = bytes(1 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    tail = packer.flush()
    crc = 0
    for _ in range(_BOMB_BYTES // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    entries: list[_Entry] = [
        ("[Content_Types].xml", b'<?xml version="1.0"?><Types/>', None),
        ("xl/workbook.xml", b'<?xml version="1.0"?><workbook/>', None),
        ("xl/worksheets/sheet1.xml", block * (_BOMB_BYTES // len(chunk)) + tail, (crc, _BOMB_BYTES)),
    ]
    return _raw_zip(entries)


def _raw_zip(entries: list[_Entry]) -> bytes:
    """A zip written by hand: ``(name, data, None)`` is stored, ``(name, deflated, (crc, size))`` is not."""
    local, central = bytearray(), bytearray()
    for name, data, inflated in entries:
        method, (crc, size) = (8, inflated) if inflated else (0, (zlib.crc32(data), len(data)))
        fields = struct.pack("<HHHHHIIIHH", 20, 0, method, 0, 0x21, crc, len(data), size, len(name), 0)
        central += b"PK\x01\x02" + struct.pack("<H", 20) + fields + struct.pack("<HHHII", 0, 0, 0, 0, len(local))
        central += name.encode()
        local += b"PK\x03\x04" + fields + name.encode() + data
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(local), 0)
    return bytes(local + central + end)


def _lying_bomb(package: bytes) -> bytes:
    """A .pptx with a part that declares 4 KB and inflates to 64 MB: only reading it finds out."""
    bomb = bytes(64 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = packer.compress(bomb) + packer.flush()
    with zipfile.ZipFile(io.BytesIO(package)) as src:
        entries: list[_Entry] = [(i.filename, src.read(i.filename), None) for i in src.infolist()]
    entries.append(("ppt/media/image1.bin", deflated, (zlib.crc32(bomb[:4096]), 4096)))
    return _raw_zip(entries)
