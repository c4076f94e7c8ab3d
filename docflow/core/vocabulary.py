"""A project's vocabulary of known names: what an entry is, and how a vocabulary file reads.

A vocabulary is a list of :class:`VocabularyEntry` ``(name, label, aliases)``, loaded per project
(``docflow vocabulary load``, table ``entity_vocabulary``) and matched exactly in the project's
documents by the entity stage (spaCy's entity ruler: ``tasks.steps.entities.vocabulary``). Matching
ignores case, except for an acronym (:func:`is_acronym`), which must match as written so that "hb"
in running text does not become "Harbour Bank". Pure.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from docflow.core.entity_names import (
    ENTITY_LABELS,
    VALUE_LABELS,
    canonical_key,
    canonical_name,
    name_without_legal_form,
)

__all__ = [
    "VOCABULARY_FORMATS",
    "VOCABULARY_LABELS",
    "VocabularyEntry",
    "VocabularyFormat",
    "is_acronym",
    "parse_vocabulary",
    "vocabulary_hash",
]

# Things with names; DATE and MONEY are values and are left to the model and its patterns.
VOCABULARY_LABELS: frozenset[str] = ENTITY_LABELS - VALUE_LABELS
VocabularyFormat = Literal["csv", "jsonl"]
VOCABULARY_FORMATS: tuple[VocabularyFormat, ...] = ("csv", "jsonl")
_ACRONYM_MAX_LETTERS = 6


@dataclass(frozen=True)
class VocabularyEntry:
    """One known entity: its display name, label and other names it goes by."""

    name: str
    label: str
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not canonical_key(self.name):
            raise ValueError(f"vocabulary entry name {self.name!r} is empty after normalisation")
        if self.label not in VOCABULARY_LABELS:
            raise ValueError(
                f"vocabulary entry {self.name!r}: label {self.label!r} is not one of {', '.join(sorted(VOCABULARY_LABELS))}"
            )
        if not isinstance(self.aliases, tuple):  # a list from a caller: keep the entry hashable
            object.__setattr__(self, "aliases", tuple(self.aliases))

    @property
    def key(self) -> str:
        return canonical_key(self.name)

    @property
    def display_name(self) -> str:
        return canonical_name(self.name)

    def surface_forms(self) -> list[str]:
        """Name, aliases, and each without its legal form ("Harbour Bank plc" -> "Harbour Bank")."""
        forms: dict[str, None] = {}
        for text in (self.name, *self.aliases):
            for form in (" ".join(text.split()), canonical_name(text), name_without_legal_form(text)):
                if canonical_key(form):
                    forms[form] = None
        return list(forms)


def is_acronym(text: str) -> bool:
    """A short all-caps name without spaces ("HB", "IBM", "U.S."): matched case-sensitively."""
    letters = [ch for ch in text if ch.isalnum()]
    return (
        " " not in text.strip()
        and 0 < len(letters) <= _ACRONYM_MAX_LETTERS
        and any(ch.isalpha() for ch in letters)
        and all(ch.isupper() or ch.isdigit() for ch in letters)
    )


def vocabulary_hash(entries: Iterable[VocabularyEntry]) -> str:
    """Content hash of a vocabulary: the same entries in the same order give the same hash."""
    digest = hashlib.sha256()
    for entry in entries:
        digest.update(json.dumps([entry.name, entry.label, list(entry.aliases)], ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


# --- parsing ----------------------------------------------------------------------------


def _entry(line: int, name: Any, label: Any, aliases: Any) -> VocabularyEntry:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"line {line}: missing name")
    if not isinstance(label, str) or not label.strip():
        raise ValueError(f"line {line}: missing label for {name!r}")
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ValueError(f"line {line}: aliases of {name!r} must be a list of strings")
    try:
        return VocabularyEntry(
            " ".join(name.split()), label.strip().upper(), tuple(a.strip() for a in aliases if a.strip())
        )
    except ValueError as exc:
        raise ValueError(f"line {line}: {exc}") from None


def _parse_csv(text: str) -> list[VocabularyEntry]:
    rows = list(csv.reader(io.StringIO(text)))
    entries = []
    for number, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if number == 1 and [c.strip().casefold() for c in row[:2]] == ["name", "label"]:
            continue  # header
        if len(row) not in (2, 3):
            raise ValueError(f"line {number}: expected 2 or 3 columns (name,label,aliases), got {len(row)}")
        aliases = row[2].split(";") if len(row) == 3 else []
        entries.append(_entry(number, row[0], row[1], aliases))
    return entries


def _parse_jsonl(text: str) -> list[VocabularyEntry]:
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: not JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise ValueError(f"line {number}: expected an object with name, label and aliases")
        unknown = set(data) - {"name", "label", "aliases"}
        if unknown:
            raise ValueError(f"line {number}: unknown field(s) {', '.join(sorted(unknown))}")
        entries.append(_entry(number, data.get("name"), data.get("label"), data.get("aliases", [])))
    return entries


def parse_vocabulary(text: str, *, fmt: VocabularyFormat) -> list[VocabularyEntry]:
    """Entries of a vocabulary file, in file order.

    ``csv``: columns ``name,label,aliases`` (aliases ``;``-separated, the column optional; an
    optional header row ``name,label,...``; blank lines and lines starting with ``#`` skipped).
    ``jsonl``: one ``{"name": ..., "label": ..., "aliases": [...]}`` per line. Labels are
    upper-cased and must be one of :data:`VOCABULARY_LABELS`. Raises ``ValueError`` naming
    the line and the reason for the first bad line.
    """
    if fmt == "csv":
        return _parse_csv(text)
    if fmt == "jsonl":
        return _parse_jsonl(text)
    raise ValueError(f"unknown vocabulary format {fmt!r} (expected 'csv' or 'jsonl')")
