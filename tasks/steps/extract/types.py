"""Data types shared by every extractor: results, limits, the text collector and the context."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from docflow.core.errors import PermanentError

__all__ = [
    "ArchiveMember",
    "Budget",
    "Collector",
    "Element",
    "ExtractContext",
    "Extraction",
    "ExtractionLimits",
    "size_text",
]


@dataclass(frozen=True)
class Element:
    """One structural piece of extracted text, in reading order."""

    text: str
    kind: str  # "Title", "NarrativeText", "ListItem", "Table", "EmailHeader", "Attachment"
    page: int  # 1-based; 1 for formats without pages


@dataclass(frozen=True)
class ExtractionLimits:
    """Upper bounds that keep one hostile or oversized input from exhausting a worker."""

    max_bytes: int = 200 * 1024 * 1024
    max_pages: int = 2000
    max_pixels: int = 200_000_000  # per page/image, guards decompression bombs
    max_text_chars: int = 20_000_000
    ocr_dpi: int = 300


@dataclass(frozen=True)
class ArchiveMember:
    """A file taken from an archive, to become a document of its own (never serialised)."""

    member_path: str  # where it sits in the archive: "reports/2024/q1.pdf"
    name: str  # its file name: "q1.pdf"
    path: Path  # its bytes, in the caller's members folder
    size: int
    file_type: str


@dataclass
class Extraction:
    """What one file yielded. ``to_json``/``from_json`` round-trip exactly."""

    file_type: str  # a type of docflow.core.filetypes: "pdf", "image", "docx", "pptx", "xlsx", "msg", "html", …
    page_count: int
    elements: list[Element]
    ocr_pages: int  # pages that went through tesseract
    text_pages: int  # pages read from a text layer (or a format that is text already)
    # An archive's files, for the caller to register as documents (not part of the JSON form).
    members: list[ArchiveMember] = dataclasses.field(default_factory=list, compare=False)

    def text(self) -> str:
        return "\n\n".join(e.text for e in self.elements)

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": 1,
                "file_type": self.file_type,
                "page_count": self.page_count,
                "ocr_pages": self.ocr_pages,
                "text_pages": self.text_pages,
                "elements": [dataclasses.asdict(e) for e in self.elements],
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str) -> Extraction:
        """Inverse of :meth:`to_json`; raises ``ValueError`` on anything it did not write."""
        try:
            data = json.loads(raw)
            if data.get("version") != 1:
                raise ValueError(f"unknown extraction format version {data.get('version')!r}")
            return cls(
                file_type=str(data["file_type"]),
                page_count=int(data["page_count"]),
                ocr_pages=int(data["ocr_pages"]),
                text_pages=int(data["text_pages"]),
                elements=[
                    Element(text=str(e["text"]), kind=str(e["kind"]), page=int(e["page"])) for e in data["elements"]
                ],
            )
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a serialised Extraction: {exc}") from exc


@dataclass
class Budget:
    """Counters shared by a file and everything nested in it (e-mail attachments)."""

    attachment_bytes: int = 0
    attachments: int = 0


# The registry's checked entry point (type known, size and no-text checks included), handed to
# extractors through the context so that e-mail attachments can recurse without eml.py
# importing the registry.
Dispatch = Callable[[Path, str, "ExtractContext"], Extraction]


@dataclass(frozen=True)
class ExtractContext:
    """Everything an extractor gets besides the path.

    ``budget`` is shared (and mutated) by a file and all its attachments; ``depth`` is 0 for the
    file the caller passed and grows by one per level of attachment.
    """

    limits: ExtractionLimits
    budget: Budget
    depth: int
    dispatch: Dispatch
    # Where an archive at depth 0 leaves the files that become documents of their own (None: its
    # files are extracted in place, as pages).
    members_dir: Path | None = None

    def child(self, limits: ExtractionLimits) -> ExtractContext:
        """The context for something nested one level deeper, under ``limits``, same budget."""
        # Only the caller's own file leaves members behind; nested archives are read in place.
        return dataclasses.replace(self, limits=limits, depth=self.depth + 1, members_dir=None)

    def extract(self, path: Path, file_type: str) -> Extraction:
        """Extract ``path`` through the registry under this context."""
        return self.dispatch(path, file_type, self)


def size_text(n: int) -> str:
    """A byte count for messages: "1.5 MB" from 1 MiB up, "1,234 bytes" below."""
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


class Collector:
    """Accumulates elements and enforces the text limit as they arrive."""

    def __init__(self, limits: ExtractionLimits) -> None:
        self.limit = limits.max_text_chars
        self.elements: list[Element] = []
        self.chars = 0

    def add(self, text: str, kind: str, page: int) -> None:
        # NUL can arrive from e-mail bodies and headers and from PDF text layers; PostgreSQL text
        # columns cannot hold it, so it would fail the next stage with a database error instead.
        text = text.replace("\x00", "").strip()
        if not text:
            return
        self.chars += len(text)
        if self.chars > self.limit:
            raise PermanentError(f"too much text: more than {self.limit:,} characters extracted, over the limit")
        self.elements.append(Element(text=text, kind=kind, page=page))

    def extend(self, elements: Iterable[Element], *, page_offset: int = 0) -> None:
        for e in elements:
            self.add(e.text, e.kind, e.page + page_offset)
