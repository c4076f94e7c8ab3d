"""A minimal writer of OLE2 compound files (CFB), for the Outlook .msg and legacy Office samples.

No library on the project's dependency list writes compound files (olefile only reads, or
overwrites streams in place), and a checked-in binary fixture would be unreviewable. CFB version 3
is simple enough to write directly: 512-byte sectors, one FAT, streams under 4096 bytes in the
mini stream, directory siblings as a balanced binary tree. Deterministic: no timestamps, no CLSIDs.
Only :mod:`docflow.sample_formats` uses this module.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = ["Tree", "compound_file", "outlook_message"]

# A storage is a dict of names to streams (bytes) or to storages (nested dicts).
Tree = dict[str, "bytes | Tree"]

_SECTOR = 512
_MINI = 64
_CUTOFF = 4096
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class _Entry:
    name: str
    kind: int  # 1 storage, 2 stream, 5 root
    data: bytes = b""
    children: list[int] = field(default_factory=list)
    left: int = _NOSTREAM
    right: int = _NOSTREAM
    child: int = _NOSTREAM
    start: int = _END


def _flatten(tree: Tree) -> list[_Entry]:
    entries = [_Entry("Root Entry", 5)]

    def add(parent: int, storage: Tree) -> None:
        for name, value in storage.items():
            index = len(entries)
            if isinstance(value, bytes):
                entries.append(_Entry(name, 2, data=value))
            else:
                entries.append(_Entry(name, 1))
                add(index, value)
            entries[parent].children.append(index)

    add(0, tree)
    for entry in entries:
        # Readers look siblings up in a binary tree ordered by name length, then upper-case name.
        ordered = sorted(entry.children, key=lambda i: (len(entries[i].name), entries[i].name.upper()))
        entry.child = _balanced(ordered, entries)
    return entries


def _balanced(ordered: list[int], entries: list[_Entry]) -> int:
    if not ordered:
        return _NOSTREAM
    middle = len(ordered) // 2
    root = ordered[middle]
    entries[root].left = _balanced(ordered[:middle], entries)
    entries[root].right = _balanced(ordered[middle + 1 :], entries)
    return root


def compound_file(tree: Tree) -> bytes:
    """The bytes of a CFB v3 file holding ``tree``."""
    entries = _flatten(tree)
    mini_stream, mini_fat = bytearray(), []
    for entry in entries:
        if entry.kind == 2 and 0 < len(entry.data) < _CUTOFF:
            entry.start = len(mini_stream) // _MINI
            count = (len(entry.data) + _MINI - 1) // _MINI
            mini_fat += [entry.start + i + 1 for i in range(count - 1)] + [_END]
            mini_stream += entry.data.ljust(count * _MINI, b"\x00")
    mini_fat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat)
    large = [e for e in entries if e.kind == 2 and len(e.data) >= _CUTOFF]
    # Regular sectors in order: directory, mini FAT, mini stream, large streams; then the FAT.
    # The directory's size is known before its content (128 bytes an entry), so it is packed last.
    sizes = [128 * len(entries), len(mini_fat_bytes), len(mini_stream), *(len(e.data) for e in large)]
    fat: list[int] = []
    starts: list[int] = []
    for size in sizes:
        count = (size + _SECTOR - 1) // _SECTOR
        starts.append(len(fat) if count else _END)
        fat += [len(fat) + i + 1 for i in range(count - 1)] + ([_END] if count else [])
    for entry, start in zip(large, starts[3:], strict=True):
        entry.start = start
    entries[0].start = starts[2]  # the root entry owns the mini stream
    fat_sectors = 1
    while len(fat) + fat_sectors > fat_sectors * (_SECTOR // 4):
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("sample too large for a header-only DIFAT")  # a bug in the caller
    fat_first = len(fat)
    fat += [_FATSECT] * fat_sectors
    fat += [_FREE] * (fat_sectors * (_SECTOR // 4) - len(fat))
    directory = b"".join(_directory_entry(e, len(mini_stream)) for e in entries)
    body = b"".join(
        data.ljust(-(-len(data) // _SECTOR) * _SECTOR, b"\x00")
        for data in (directory, mini_fat_bytes, bytes(mini_stream), *(e.data for e in large))
    )
    header = _header(
        fat_sectors=fat_sectors,
        fat_first=fat_first,
        dir_first=starts[0],
        minifat_first=starts[1],
        minifat_count=(len(mini_fat_bytes) + _SECTOR - 1) // _SECTOR,
    )
    return header + body + struct.pack(f"<{len(fat)}I", *fat)


def _header(*, fat_sectors: int, fat_first: int, dir_first: int, minifat_first: int, minifat_count: int) -> bytes:
    difat = [fat_first + i for i in range(fat_sectors)] + [_FREE] * (109 - fat_sectors)
    head = _MAGIC + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
    head += struct.pack("<IIIIIIIII", 0, fat_sectors, dir_first, 0, _CUTOFF, minifat_first, minifat_count, _END, 0)
    return head + struct.pack("<109I", *difat)


def _directory_entry(entry: _Entry, mini_size: int) -> bytes:
    name = entry.name.encode("utf-16-le") + b"\x00\x00"
    if len(name) > 64:
        raise ValueError(f"CFB names are at most 31 characters: {entry.name!r}")
    size = mini_size if entry.kind == 5 else len(entry.data)
    if entry.kind == 1:
        start = 0  # storages own no sectors
    else:
        start = entry.start if size else _END
    return (
        name.ljust(64, b"\x00")
        + struct.pack("<HBB", len(name), entry.kind, 1)  # colour 1: black
        + struct.pack("<III", entry.left, entry.right, entry.child)
        + bytes(16 + 4 + 16)  # CLSID, state bits, creation and modification times
        + struct.pack("<IQ", start, size)
    )


# --- Outlook .msg (MS-OXMSG) ---------------------------------------------------------------------

_UNICODE, _BINARY, _INT32, _TIME = 0x001F, 0x0102, 0x0003, 0x0040
_PROPS = "__properties_version1.0"


def _properties(props: list[tuple[int, int, int | str | bytes]], *, header: bytes) -> Tree:
    """One object's property stream plus a ``__substg1.0_`` stream per variable-length value."""
    storage: Tree = {}
    stream = bytearray(header)
    for pid, ptyp, value in props:
        tag = (pid << 16) | ptyp
        if isinstance(value, int):
            stream += struct.pack("<IIQ", tag, 0x6, value)  # 0x6: readable and writable
        else:
            data = value.encode("utf-16-le") if isinstance(value, str) else value
            storage[f"__substg1.0_{tag:08X}"] = data
            # A string's declared size counts the terminating NUL that the stream leaves out.
            stream += struct.pack("<IIII", tag, 0x6, len(data) + (2 if ptyp == _UNICODE else 0), 0)
    storage[_PROPS] = bytes(stream)
    return storage


def _filetime(moment: datetime) -> int:
    return int((moment - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds() * 10_000_000)


def outlook_message(
    *,
    sender: tuple[str, str],
    to: list[tuple[str, str]],
    cc: list[tuple[str, str]],
    subject: str,
    sent: datetime,
    body: str,
    attachments: list[tuple[str, str, bytes]],
) -> bytes:
    """A minimal but valid Outlook .msg: (name, address) people, attachments as (name, mime, data)."""

    def person(name: str, address: str) -> str:
        return f"{name} <{address}>"

    transport = (
        f"From: {person(*sender)}\r\nTo: {', '.join(person(*p) for p in to)}\r\n"
        f"Cc: {', '.join(person(*p) for p in cc)}\r\nSubject: {subject}\r\n"
        f"Date: {sent.strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\nMIME-Version: 1.0\r\n\r\n"
    )
    counts = struct.pack("<8xIIII8x", len(to) + len(cc), len(attachments), len(to) + len(cc), len(attachments))
    tree = _properties(
        [
            (0x001A, _UNICODE, "IPM.Note"),  # message class
            (0x0037, _UNICODE, subject),
            (0x0039, _TIME, _filetime(sent)),  # client submit time
            (0x007D, _UNICODE, transport),  # transport message headers
            (0x0C1A, _UNICODE, sender[0]),  # sender name
            (0x0C1F, _UNICODE, sender[1]),  # sender e-mail address
            (0x0E03, _UNICODE, "; ".join(name for name, _ in cc)),  # display Cc
            (0x0E04, _UNICODE, "; ".join(name for name, _ in to)),  # display To
            (0x1000, _UNICODE, body),
            (0x340D, _INT32, 0x00040000),  # store support mask: strings are Unicode
        ],
        header=counts,
    )
    for number, (name, address, kind) in enumerate([(n, a, 1) for n, a in to] + [(n, a, 2) for n, a in cc]):
        tree[f"__recip_version1.0_#{number:08X}"] = _properties(
            [
                (0x0C15, _INT32, kind),
                (0x3001, _UNICODE, name),
                (0x3003, _UNICODE, address),
                (0x39FE, _UNICODE, address),
            ],
            header=bytes(8),
        )
    for number, (filename, mime, data) in enumerate(attachments):
        tree[f"__attach_version1.0_#{number:08X}"] = _properties(
            [
                (0x0E21, _INT32, number),  # attachment number
                (0x3701, _BINARY, data),
                (0x3704, _UNICODE, filename[:8]),  # 8.3 name
                (0x3705, _INT32, 1),  # attach method: by value
                (0x3707, _UNICODE, filename),
                (0x370E, _UNICODE, mime),
            ],
            header=bytes(8),
        )
    tree["__nameid_version1.0"] = {f"__substg1.0_000{n}0102": b"" for n in (2, 3, 4)}
    return compound_file(tree)
