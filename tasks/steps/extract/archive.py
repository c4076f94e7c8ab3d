"""ZIP archives: each member a document of its own, or, inside an e-mail, pages of the message.

The archive's own text is the list of what it holds, one line per file ("reports/q1.pdf", or why a
file was not taken: encrypted, unsupported, over a limit), so the archive is found by its members'
names. Where the caller gives a members folder (``ExtractContext.members_dir``: the OCR stage of an
archive document), each member docflow reads is inflated there and returned in
:attr:`Extraction.members`, for the stage to register as a document of its own. Otherwise (a ZIP
attached to an e-mail, or a caller without a folder) each member is extracted in place behind an
"Attachment:" label, on pages after the list, exactly like an e-mail's attachments.

The limits are the e-mail attachments' (:mod:`~tasks.steps.extract.attachments`): at most
``MAX_ATTACHMENTS`` members taken, nested at most ``MAX_ATTACHMENT_DEPTH`` levels (an archive in an
archive in an e-mail counts every level), their inflated bytes together within ``max_bytes``, and a
member that inflates to more than it declares is refused as a zip bomb after 64 KiB too many.
"""

from __future__ import annotations

import copy
import tempfile
import zipfile
import zlib
from functools import partial
from pathlib import Path, PurePosixPath

from docflow.core.errors import PermanentError
from docflow.core.filetypes import HEAD_BYTES, detect_file_type
from docflow.core.names import base_name
from tasks.steps.extract.attachments import MAX_ATTACHMENT_DEPTH, MAX_ATTACHMENTS, Attachments
from tasks.steps.extract.types import (
    ArchiveMember,
    Collector,
    ExtractContext,
    Extraction,
    ExtractionLimits,
    size_text,
)

__all__ = ["MAX_ARCHIVE_ENTRIES", "extract"]

MAX_ARCHIVE_ENTRIES = 10_000  # listed; more is not an archive of documents
_CHUNK = 1 << 16


def extract(path: Path, ctx: ExtractContext) -> Extraction:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise PermanentError("corrupt ZIP archive: not a valid zip file (its directory is missing or damaged)") from exc
    with archive, tempfile.TemporaryDirectory(prefix="docflow-zip-") as scratch:
        files = [info for info in archive.infolist() if not info.is_dir()]
        if any(info.filename == "[Content_Types].xml" for info in files):
            # Detection saw only the first 64 KiB: the whole directory shows an Office package's parts.
            raise PermanentError(
                "unsupported file type: looks like an Office Open XML package of a kind docflow does not read "
                "(Visio, XPS or similar), not a ZIP archive of documents"
            )
        if len(files) > MAX_ARCHIVE_ENTRIES:
            raise PermanentError(
                f"ZIP archive too large: it holds {len(files):,} files, over the limit of {MAX_ARCHIVE_ENTRIES:,}"
            )
        if not files:
            raise PermanentError("no text could be extracted: the ZIP archive holds no files")
        out = Collector(ctx.limits)
        out.add(f"ZIP archive of {len(files):,} file{'s' if len(files) != 1 else ''}", "Title", 1)
        folder = ctx.members_dir
        attachments = Attachments(ctx, out)
        members: list[ArchiveMember] = []
        taken = 0
        for number, info in enumerate(files, start=1):
            member_path = _member_path(info)
            target = (folder or Path(scratch)) / f"member-{number}"
            try:
                file_type = _take(archive, info, target, ctx, taken=taken)
            except PermanentError as exc:
                out.add(f"{member_path} (not extracted: {exc})", "Attachment", attachments.page_count)
                continue
            taken += 1
            if folder is not None:
                out.add(member_path, "Attachment", 1)
                name = base_name(member_path) or f"member-{number}"
                members.append(ArchiveMember(member_path, name, target, target.stat().st_size, file_type))
            else:
                attachments.add(member_path, partial(_extract_in_place, target, file_type, ctx=ctx))
        result = attachments.result("zip")
        result.members = members
        return result


def _member_path(info: zipfile.ZipInfo) -> str:
    """The member's path as shown: forward slashes, no leading slash or dot segments."""
    parts = [part for part in PurePosixPath(info.filename.replace("\\", "/")).parts if part not in ("/", ".", "..")]
    return "/".join(parts)[:1024] or "unnamed"


def _take(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, ctx: ExtractContext, *, taken: int) -> str:
    """Admit one member under the limits, inflate it to ``target`` and return its file type."""
    if ctx.depth >= MAX_ATTACHMENT_DEPTH:
        raise PermanentError(f"nested more than {MAX_ATTACHMENT_DEPTH} levels deep")
    if taken >= MAX_ATTACHMENTS:
        raise PermanentError(f"more than {MAX_ATTACHMENTS} files taken from one archive")
    if info.flag_bits & 0x1:
        raise PermanentError("the file is encrypted (the archive is protected by a password)")
    if info.file_size == 0:
        raise PermanentError("empty file: 0 bytes")
    budget = ctx.limits.max_bytes - ctx.budget.attachment_bytes
    if info.file_size > budget:
        raise PermanentError(f"the archive's files exceed the {size_text(ctx.limits.max_bytes)} total size limit")
    _inflate_to(archive, info, target)
    ctx.budget.attachment_bytes += info.file_size
    try:
        with target.open("rb") as handle:
            file_type, _ = detect_file_type(data_head=handle.read(HEAD_BYTES), filename=base_name(info.filename))
    except PermanentError:
        target.unlink(missing_ok=True)
        raise
    return file_type


def _inflate_to(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    """Write one member to ``target`` 64 KiB at a time; refuse one that yields more than it declares."""
    probe = copy.copy(info)
    probe.file_size = info.file_size + (1 << 20)  # read on past the declared end, if there is more
    written = 0
    crc = 0
    try:
        with archive.open(probe) as part, target.open("wb") as sink:
            while chunk := part.read(_CHUNK):
                if written + len(chunk) > info.file_size:
                    if zlib.crc32(chunk[: info.file_size - written], crc) != info.CRC:
                        raise PermanentError("the file is damaged (its checksum does not match)")
                    raise PermanentError(
                        f"the file unpacks to more than the {size_text(info.file_size)} it declares (possible zip bomb)"
                    )
                crc = zlib.crc32(chunk, crc)
                written += len(chunk)
                sink.write(chunk)
        if written != info.file_size or crc != info.CRC:
            raise PermanentError("the file is damaged (truncated, or its checksum does not match)")
    except PermanentError:
        target.unlink(missing_ok=True)
        raise
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
        target.unlink(missing_ok=True)
        raise PermanentError(f"the file is damaged ({type(exc).__name__})") from exc
    except (NotImplementedError, RuntimeError) as exc:  # an unknown compression method, or encrypted
        target.unlink(missing_ok=True)
        raise PermanentError(f"the file cannot be unpacked ({exc})") from exc


def _extract_in_place(path: Path, file_type: str, limits: ExtractionLimits, *, ctx: ExtractContext) -> Extraction:
    try:
        return ctx.child(limits).extract(path, file_type)
    finally:
        path.unlink(missing_ok=True)
