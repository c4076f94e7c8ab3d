"""The data of a sweep: the options it runs with, the files it considers, what became of each."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from docflow.core.filetypes import READABLE_EXTENSIONS
from docflow.core.names import display_name

# Every extension some extractor reads (file-type detection still decides from the bytes).
SUPPORTED_EXTENSIONS = READABLE_EXTENSIONS
OUTCOMES = ("new", "duplicate", "skipped", "rejected")


@dataclass
class FileOutcome:
    name: str  # path relative to the source, display-safe (display_name)
    outcome: str  # new | duplicate | skipped | rejected
    reason: str | None = None
    document_uuid: str | None = None
    document_id: int | None = None
    task_id: str | None = None
    status: str | None = None


@dataclass
class Candidate:
    """A file discovery found worth reading, from a folder or an S3 listing."""

    relative_path: str  # exact identity (storable_path); reports use display_name of it
    path: Path | None  # where the bytes are read from; None until an S3 object is downloaded
    size: int
    mtime_ns: int
    sha256: str | None = None
    file_type: str | None = None
    mime: str | None = None
    root: Path | None = None  # the fence every open is checked against (None: our own temp copy)
    bucket: str | None = None  # S3 sources: where the object is
    object_key: str | None = None

    @property
    def shown(self) -> str:
        return display_name(self.relative_path)


@dataclass
class SweepOptions:
    source: str
    project_id: str
    recursive: bool = True
    extensions: tuple[str, ...] = SUPPORTED_EXTENSIONS
    patterns: tuple[str, ...] = ("*",)
    stable_seconds: float = 10.0
    batch_size: int = 200
    backpressure_limit: int = 5000
    dry_run: bool = False
    # Files whose writer closed them after writing (relative path -> mtime_ns when closed), from
    # filesystem events: taken without waiting for the stable delay, unless changed since.
    settled: dict[str, int] = field(default_factory=dict)
    # Tesseract languages for this sweep's documents (e.g. "spa+eng"); None: the project's default.
    ocr_languages: str | None = None

    @property
    def is_s3(self) -> bool:
        return self.source.startswith("s3://")


@dataclass
class BatchResult:
    """What one batch did, and the content it took (sha256 → name), for within-sweep dedupe."""

    outcomes: list[FileOutcome]
    taken: dict[str, str] = field(default_factory=dict)


@dataclass
class SweepReport:
    source: str
    project_id: str
    dry_run: bool
    files: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for item in self.files:
            counts[item.outcome] += 1
        return counts

    def new_document_ids(self) -> list[int]:
        return [f.document_id for f in self.files if f.outcome == "new" and f.document_id is not None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "project_id": self.project_id,
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "seconds": round(self.seconds, 3),
            "files": [asdict(f) for f in self.files],
        }

    def markdown(self) -> str:
        counts = self.counts()
        lines = [
            f"# Intake sweep of `{self.source}`",
            "",
            f"Project `{self.project_id}`{' (dry run: nothing registered)' if self.dry_run else ''}, "
            f"{len(self.files)} files in {self.seconds:.1f}s.",
            "",
            "| outcome | files |",
            "|---|---|",
        ]
        lines += [f"| {name} | {count} |" for name, count in counts.items()]
        problems = [f for f in self.files if f.outcome in ("rejected", "skipped")]
        if problems:
            lines += ["", "## Rejected and skipped", "", "| file | outcome | reason |", "|---|---|---|"]
            lines += [f"| {_cell(f.name)} | {f.outcome} | {_cell(f.reason or '')} |" for f in problems[:500]]
        return "\n".join(lines)

    def table(self) -> list[dict[str, str]]:
        """One row per file, for the flow's table artifact and ``docflow intake --json``'s readers."""
        return [
            {
                "file": f.name,
                "outcome": f.outcome,
                "document_uuid": f.document_uuid or "",
                "task_id": f.task_id or "",
                "reason": f.reason or "",
            }
            for f in self.files
        ]


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell (a name may hold ``|`` or backticks)."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
