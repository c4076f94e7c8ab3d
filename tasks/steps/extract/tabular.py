"""CSV and TSV files, read by unstructured (pandas underneath) as one table each.

The table comes out as rows and cells (" | " between cells, one row per line), so a chunk of it
still says which value sits in which row.

pandas refuses a file whose rows are of uneven length (one row with a cell more: "ParserError");
spreadsheet applications open it. Such a file is read again by the standard library's ``csv``
reader, which keeps every row as it is; only when that fails too is the file corrupt, and the
error names both readers.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from pathlib import Path
from typing import BinaryIO

from docflow.core.errors import PermanentError
from tasks.steps.extract.partitioned import collect, describe, partition
from tasks.steps.extract.types import Collector, ExtractContext, Extraction

__all__ = ["extract_csv", "extract_tsv"]

_CHUNK = 1 << 16
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")


def extract_csv(path: Path, ctx: ExtractContext) -> Extraction:
    return _table(path, ctx, "csv", "unstructured.partition.csv:partition_csv", "CSV file")


def extract_tsv(path: Path, ctx: ExtractContext) -> Extraction:
    return _table(path, ctx, "tsv", "unstructured.partition.tsv:partition_tsv", "TSV file")


def _table(path: Path, ctx: ExtractContext, file_type: str, function: str, noun: str) -> Extraction:
    out = Collector(ctx.limits)
    with path.open("rb") as fh:
        # Blank files (only spaces and line breaks) make pandas raise; they simply hold no cells,
        # and the registry says so ("no text could be extracted").
        if any(chunk.strip() for chunk in iter(lambda: fh.read(_CHUNK), b"")):
            fh.seek(0)
            # unstructured reads UTF-8 only; spreadsheet exports are as often UTF-16 (Excel's
            # "Unicode text") or Windows-1252, which would otherwise fail as corrupt.
            with tempfile.TemporaryFile(prefix="docflow-table-") as utf8:
                encoding = _encoding(fh)
                if encoding != "utf-8":
                    _transcode(fh, encoding, utf8)
                # Passed open, not by name: by name, unstructured would decompress a file that
                # happens to be named .gz or .zip.
                source = fh if encoding == "utf-8" else utf8
                source.seek(0)
                # Every row, the first included, is a row of the table: it may or may not be a header.
                try:
                    collect(partition(function, path, noun=noun, file=source), out)
                except PermanentError as exc:
                    if not str(exc).startswith("corrupt "):
                        raise  # a limit, not a reader's failure
                    source.seek(0)
                    _lenient_rows(source, file_type, noun, out, first_error=str(exc))
    return Extraction(file_type, 1, out.elements, ocr_pages=0, text_pages=1)


def _lenient_rows(source: BinaryIO, file_type: str, noun: str, out: Collector, *, first_error: str) -> None:
    """The table as the ``csv`` module reads it: rows of any length, each kept (UTF-8 ``source``)."""
    text = io.TextIOWrapper(source, encoding="utf-8", errors="replace", newline="")
    try:
        sample = text.read(1 << 16)
        text.seek(0)
        delimiter = "\t" if file_type == "tsv" else _delimiter(sample)
        lines: list[str] = []
        size = 0
        for row in csv.reader(text, delimiter=delimiter, strict=False):
            line = " | ".join(cell for cell in (" ".join(value.split()) for value in row) if cell)
            if line:
                lines.append(line)
                size += len(line) + 1
                if size > out.limit:
                    raise PermanentError(f"too much text: more than {out.limit:,} characters extracted, over the limit")
    except csv.Error as exc:
        reason = first_error.removeprefix(f"corrupt {noun}: ")
        raise PermanentError(
            f"corrupt {noun}: unstructured/pandas: {reason}; Python's csv reader: {describe(exc)}"
        ) from exc
    finally:
        text.detach()  # the caller owns ``source``
    out.add("\n".join(lines), "Table", 1)


def _delimiter(sample: str) -> str:
    """The delimiter of a CSV sample (comma, semicolon, tab or bar; comma when undecided)."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _encoding(fh: BinaryIO) -> str:
    """The file's encoding: from its BOM, else UTF-8 if it all decodes, else Windows-1252 (or Latin-1)."""
    fh.seek(0)
    head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not head.startswith(codecs.BOM_UTF32_LE):
        return "utf-16"
    fh.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        fh.seek(0)
        # cp1252 leaves five bytes undefined; Latin-1 decodes every byte.
        if any(not _CP1252_UNDEFINED.isdisjoint(chunk) for chunk in iter(lambda: fh.read(_CHUNK), b"")):
            return "latin-1"
        return "cp1252"


def _transcode(source: BinaryIO, encoding: str, target: BinaryIO) -> None:
    source.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    for chunk in iter(lambda: source.read(_CHUNK), b""):
        target.write(decoder.decode(chunk).encode("utf-8"))
    target.write(decoder.decode(b"", final=True).encode("utf-8"))
