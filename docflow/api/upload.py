"""Receiving a document over HTTP: streamed to disk within the size limit, checked, then ingested.

The body is read chunk by chunk into a private temporary file (never whole into memory), counted
against the limit as it arrives (413 the moment it is exceeded, before the rest is read), and its
type is recognised from its bytes like intake does (415 with the reason for anything docflow does
not read). Then the same registration as intake and ``docflow submit``: the original is stored
under its content key, the row is registered with sha256 dedupe, and the document is submitted.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import HTTPException, Request, status
from starlette.concurrency import run_in_threadpool

from docflow.api.limits import Limits
from docflow.core.errors import PermanentError
from docflow.core.filetypes import sniff_file
from docflow.core.settings import Settings
from docflow.ops.submit import IngestResult, ingest_file

# What a client may declare; the bytes decide what the document really is.
ACCEPTED_MEDIA_TYPES = frozenset({
    "application/pdf", "image/png", "image/jpeg", "image/tiff", "image/gif", "image/bmp", "image/webp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "message/rfc822", "text/plain",
    "application/octet-stream",
})  # fmt: skip


def media_type(request: Request) -> str:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


def check_declared(request: Request, settings: Settings) -> None:
    """Refuse before reading: an unsupported declared type (415) or a declared size over the limit (413)."""
    declared = media_type(request)
    if declared not in ACCEPTED_MEDIA_TYPES:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"unsupported media type {declared or '(none)'!r}: send the document's own type "
            f"({', '.join(sorted(ACCEPTED_MEDIA_TYPES))})",
        )
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.api_max_upload_bytes:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"document too large: {int(length)} bytes, over the limit of {settings.api_max_upload_bytes}",
        )


async def receive(request: Request, *, folder: Path, limit: int) -> tuple[Path, int]:
    """Stream the body to ``folder/upload``; (path, size). 413 as soon as ``limit`` is passed."""
    path, size = folder / "upload", 0
    with path.open("wb") as out:
        async for block in request.stream():
            size += len(block)
            if size > limit:
                raise HTTPException(
                    status.HTTP_413_CONTENT_TOO_LARGE, f"document too large: over the limit of {limit} bytes"
                )
            out.write(block)
    return path, size


async def ingest_upload(
    request: Request, *, filename: str, project_id: str | None, settings: Settings, ocr_languages: str | None = None
) -> IngestResult:
    """Receive, check and ingest one uploaded document (see the module docstring)."""
    check_declared(request, settings)
    limits: Limits = request.app.state.limits
    length = request.headers.get("content-length") or ""
    await run_in_threadpool(limits.check_upload, request, declared_bytes=int(length) if length.isdigit() else 1)
    with tempfile.TemporaryDirectory(prefix="docflow-upload-") as tmp:
        path, size = await receive(request, folder=Path(tmp), limit=settings.api_max_upload_bytes)
        await run_in_threadpool(limits.count_upload, request, size_bytes=size)
        if size == 0:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "empty document: 0 bytes")
        try:
            sniff_file(path, filename=filename)
        except PermanentError as exc:
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from None
        # Storing, registering and publishing block on the network: off the event loop.
        return await run_in_threadpool(
            ingest_file,
            path=path,
            project_id=project_id,
            original_file_name=filename,
            settings=settings,
            ocr_languages=ocr_languages,
        )
