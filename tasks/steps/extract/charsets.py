"""Text of unknown encoding, decoded as a text editor would: Unicode first, then the code page it
is written in.

shaping's :func:`~tasks.steps.extract.shaping.decode_text` reads a BOM, UTF-8, then Windows-1252:
right for Western text, but a Russian file in cp866 or an Arabic page in cp1256 comes out as
Latin letters that mean nothing (and entities nobody wrote). Text that is not UTF-8 is therefore
first given to charset-normalizer, which tells the code page from the byte statistics of the first
64 KiB; its answer decodes the whole file. Without a confident answer, decode_text decides.

A file that is partly UTF-8 (a Latin-1 paragraph pasted into a UTF-8 note) is decoded line by
line instead: one code page for all of it would garble whichever part it is not.
"""

from __future__ import annotations

import codecs

from tasks.steps.extract.shaping import decode_text

__all__ = ["decode_any"]

_SAMPLE = 64 * 1024


def decode_any(data: bytes) -> str:
    """``data`` as text: BOM or UTF-8 as they are; otherwise the detected code page, else decode_text's."""
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode_text(data)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data[:_SAMPLE], final=len(data) <= _SAMPLE)
        return decode_text(data)
    except UnicodeDecodeError:
        pass
    lines = data.splitlines(keepends=True)
    if any(_is_utf8_beyond_ascii(line) for line in lines):
        return "".join(_decode_line(line) for line in lines).replace("\x00", "")
    from charset_normalizer import from_bytes

    best = from_bytes(data[:_SAMPLE]).best()
    if best is None or best.encoding in ("utf_8", "ascii"):
        return decode_text(data)
    return data.decode(best.encoding, errors="replace").replace("\x00", "")


def _is_utf8_beyond_ascii(line: bytes) -> bool:
    if line.isascii():
        return False
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return decode_text(line)
