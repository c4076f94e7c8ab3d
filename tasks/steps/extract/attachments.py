"""Attachment rules shared by the e-mail extractors (.eml and Outlook .msg).

An attachment is extracted through the registry (:meth:`ExtractContext.extract`) under what is left
of its message's page and text allowance and the budget shared by the whole file; its pages follow
the message's. One that cannot be read becomes an "Attachment" element saying why, never a failure
of the message.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from docflow.core.errors import PermanentError
from docflow.core.filetypes import HEAD_BYTES, detect_file_type
from tasks.steps.extract.types import Collector, ExtractContext, Extraction, ExtractionLimits, size_text

__all__ = ["MAX_ATTACHMENTS", "MAX_ATTACHMENT_DEPTH", "Attachments", "extract_bytes", "sanitise_filename"]

MAX_ATTACHMENT_DEPTH = 3
MAX_ATTACHMENTS = 100


@dataclass
class Attachments:
    """Appends a message's attachments to its elements, one after another, as extra pages."""

    ctx: ExtractContext  # the containing message's
    out: Collector  # the message's elements so far
    page_count: int = 1
    ocr_pages: int = 0
    text_pages: int = 1

    def add(self, name: str, extract: Callable[[ExtractionLimits], Extraction]) -> None:
        """Extract one attachment with ``extract(remaining_limits)``, or record why not."""
        label = f"Attachment: {name}"
        limits = self.ctx.limits
        # Attachments spend what is left of the file's page and text allowance.
        remaining = dataclasses.replace(
            limits,
            max_pages=limits.max_pages - self.page_count,
            max_text_chars=limits.max_text_chars - self.out.chars,
        )
        try:
            self._admit(remaining)
            nested = extract(remaining)
        except PermanentError as exc:
            self.out.add(f"{label} (not extracted: {exc})", "Attachment", self.page_count)
            return
        self.out.add(label, "Attachment", self.page_count + 1)
        self.out.extend(nested.elements, page_offset=self.page_count)
        self.page_count += nested.page_count
        self.ocr_pages += nested.ocr_pages
        self.text_pages += nested.text_pages

    def result(self, file_type: str) -> Extraction:
        return Extraction(
            file_type, self.page_count, self.out.elements, ocr_pages=self.ocr_pages, text_pages=self.text_pages
        )

    def _admit(self, limits: ExtractionLimits) -> None:
        if limits.max_pages < 1 or limits.max_text_chars < 1:
            raise PermanentError("the page or text limit was reached before this attachment")
        if self.ctx.depth >= MAX_ATTACHMENT_DEPTH:
            raise PermanentError(f"nested more than {MAX_ATTACHMENT_DEPTH} levels deep")
        self.ctx.budget.attachments += 1
        if self.ctx.budget.attachments > MAX_ATTACHMENTS:
            raise PermanentError(f"more than {MAX_ATTACHMENTS} attachments")


def extract_bytes(
    data: bytes | None, *, filename: str, scratch: Path, limits: ExtractionLimits, ctx: ExtractContext
) -> Extraction:
    """Detect and extract an attachment's bytes through a private scratch file, removed after.

    ``limits`` is what is left of the file's allowance; ``ctx`` is the containing message's.
    """
    if not isinstance(data, bytes) or not data:
        raise PermanentError("empty attachment")
    ctx.budget.attachment_bytes += len(data)
    if ctx.budget.attachment_bytes > limits.max_bytes:
        raise PermanentError(f"attachments exceed the {size_text(limits.max_bytes)} total size limit")
    file_type, _ = detect_file_type(data_head=data[:HEAD_BYTES], filename=filename)
    scratch.write_bytes(data)
    try:
        return ctx.child(limits).extract(scratch, file_type)
    finally:
        scratch.unlink(missing_ok=True)


def sanitise_filename(name: str | None, *, fallback: str) -> str:
    """A filename fit for a label: no directories, control characters or runs of spaces."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split()).strip(". ")
    return name[:200] or fallback
