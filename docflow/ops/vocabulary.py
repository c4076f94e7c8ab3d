"""Load and list a project's vocabulary of known names (``docflow vocabulary load`` / ``list``).

Entries are upserted on their natural key ``(project_id, name, label)``: loading the same file twice
changes nothing, loading an edited file updates the aliases. ``replace`` first removes the project's
entries that the file no longer has. The entity stage reads the vocabulary of a document's project
each time it runs, so documents processed after a load use it; documents processed before keep
their entities until reprocessed (``docflow reprocess --project P --from entity``) — their entity
version names the vocabulary it used, so ``--made-with`` finds them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from docflow.core import results
from docflow.core.db import session_scope
from docflow.core.models import VocabularyName, table_of
from docflow.core.vocabulary import (
    VOCABULARY_FORMATS,
    VocabularyEntry,
    VocabularyFormat,
    parse_vocabulary,
    vocabulary_hash,
)

_VOCABULARY = table_of(VocabularyName)
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class VocabularyLoad:
    project_id: str
    entries_in_file: int
    inserted: int
    updated: int
    removed: int
    total: int
    vocabulary_hash: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def format_of(path: Path, fmt: str | None) -> VocabularyFormat:
    """The file's format: ``fmt`` when given, else from the extension (.csv, .jsonl/.ndjson)."""
    if fmt:
        for known in VOCABULARY_FORMATS:
            if fmt == known:
                return known
        raise ValueError(f"unknown vocabulary format {fmt!r} (expected one of {', '.join(VOCABULARY_FORMATS)})")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".csv", ".txt"):
        return "csv"
    raise ValueError(f"cannot tell the format of {path.name} from its extension: pass --format csv or jsonl")


def read_vocabulary_file(path: Path, *, fmt: str | None = None) -> list[VocabularyEntry]:
    """The entries of a vocabulary file; ``ValueError`` naming the line for the first bad one."""
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"{path.name} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path.name} is not UTF-8 text (byte {exc.start})") from None
    entries = parse_vocabulary(text, fmt=format_of(path, fmt))
    if not entries:
        raise ValueError(f"{path.name} has no entries")
    return entries


def load_vocabulary(*, project_id: str, entries: list[VocabularyEntry], replace: bool = False) -> VocabularyLoad:
    """Upsert ``entries`` as the project's vocabulary (one transaction); with ``replace`` the
    project's entries missing from ``entries`` are removed."""
    if not project_id.strip():
        raise ValueError("a vocabulary belongs to a project: --project is required")
    rows = {(e.name, e.label): {"project_id": project_id, "name": e.name, "label": e.label, "aliases": list(e.aliases)}
            for e in entries}  # fmt: skip
    with session_scope() as session:
        existing = {
            (name, label): aliases
            for name, label, aliases in session.execute(
                select(_VOCABULARY.c.name, _VOCABULARY.c.label, _VOCABULARY.c.aliases).where(
                    _VOCABULARY.c.project_id == project_id
                )
            )
        }
        removed = 0
        if replace:
            gone = [key for key in existing if key not in rows]
            if gone:
                removed = session.execute(  # type: ignore[attr-defined]  # a DML result: CursorResult
                    delete(_VOCABULARY).where(
                        _VOCABULARY.c.project_id == project_id,
                        tuple_(_VOCABULARY.c.name, _VOCABULARY.c.label).in_(gone),
                    )
                ).rowcount
        statement = insert(_VOCABULARY)
        statement = statement.on_conflict_do_update(
            constraint="uq_entity_vocabulary_project_name_label",
            set_={"aliases": statement.excluded.aliases, "updated_at": func.now()},
            where=_VOCABULARY.c.aliases.is_distinct_from(statement.excluded.aliases),
        )
        if rows:
            session.execute(statement, list(rows.values()))
        total = session.execute(
            select(func.count()).select_from(_VOCABULARY).where(_VOCABULARY.c.project_id == project_id)
        ).scalar_one()
    inserted = sum(1 for key in rows if key not in existing)
    updated = sum(1 for key, row in rows.items() if key in existing and existing[key] != row["aliases"])
    return VocabularyLoad(
        project_id, len(entries), inserted, updated, removed, int(total), vocabulary_hash(list_vocabulary(project_id))
    )


def list_vocabulary(project_id: str) -> list[VocabularyEntry]:
    """The project's entries in load order (the order the entity stage matches them in)."""
    with session_scope() as session:
        return results.project_vocabulary(session, project_id=project_id)
