"""Every occurrence of a name the recogniser found somewhere in the document, for the relation rules. Pure.

A statistical recogniser reads each occurrence on its own: it finds "Quantix" in one sentence and
misses it in the next ("Ravi Menon of Quantix"), or cuts "Terres du Berry" to "Berry" once. The
relation rules read the document as a whole, so inside their view of it (never in the stored
mentions) a name recognised once stands for the same entity wherever the same words appear:
whole words, same case (or all in capitals), at least three characters with a capital. A longer name wins over a shorter
recognised span inside it, and a name wins over a recognised span that runs across a table cell or
a line ("Iñigo Zabala | Vicepresidente"); a span that would cross another is not taken.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Protocol, TypeVar

from tasks.steps.relations.lexicon import ROLE

__all__ = ["every_occurrence", "glued_titles", "organ_names", "titled_aliases"]

_MIN_LENGTH = 3
# Titles a recognised span may start with ("Mme Sophie Garnier", "Sr. D. Álvaro Requena").
_TITLES = re.compile(
    r"^(?:(?:mr|mrs|ms|dr|prof|sr|sra|srta|d|dña|don|doña|m|mme|mlle|madame|monsieur|maître|me)\.?\s+)+",
    re.IGNORECASE,
)
# Roles whose names are propagated; a date is not a name.
_NAMED_ROLES = frozenset({"PER", "ORG", "LOC", "AMB", "FAC"})


class _Named(Protocol):
    """An entity occurrence (``tasks.steps.relations.document.Entity``, a dataclass)."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def key(self) -> str: ...
    def at(self: Entity, start: int, end: int, text: str) -> Entity: ...


Entity = TypeVar("Entity", bound=_Named)


def _is_name(text: str) -> bool:
    return len(text) >= _MIN_LENGTH and any(c.isupper() for c in text) and "\n" not in text and "|" not in text


def _boundary(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or before in "&-'") and not (after.isalnum() or after in "&-")


def _across_cells(text: str) -> bool:
    return "|" in text or "\n" in text


def every_occurrence(text: str, found: dict[tuple[int, int], Entity]) -> dict[tuple[int, int], Entity]:
    """``found`` (span -> entity) with the unrecognised occurrences of its names added.

    Each name takes the label and key it was recognised under most often. Deterministic.
    """
    readings: dict[str, Counter[tuple[str, str, str]]] = defaultdict(Counter)
    templates: dict[tuple[str, str, str, str], Entity] = {}
    for entity in found.values():
        if entity.role in _NAMED_ROLES and _is_name(entity.text):
            reading = (entity.label, entity.role, entity.key)
            readings[entity.text][reading] += 1
            templates.setdefault((entity.text, *reading), entity)
    if not readings:
        return found
    result = dict(found)
    spans = sorted(result)
    # Each name as written, and in capitals (a letterhead or a heading: "DESPACHO IBARRA ABOGADOS").
    forms = [(name, name) for name in readings]
    forms += [(name.upper(), name) for name in readings if name.upper() != name and len(name) > _MIN_LENGTH]
    for form, name in sorted(forms, key=lambda f: (-len(f[0]), f)):
        (label, role, key), _count = readings[name].most_common(1)[0]
        template = templates[(name, label, role, key)]
        start = text.find(form)
        while start != -1:
            end = start + len(form)
            if (start, end) not in result and _boundary(text, start, end):
                position = bisect.bisect_left(spans, (start, -1))
                around = spans[max(0, position - 3) : position] + [
                    s for s in spans[position : position + 8] if s[0] < end
                ]
                overlapping = [s for s in around if s[0] < end and start < s[1]]
                if all((start <= s[0] and s[1] <= end) or _across_cells(result[s].text) for s in overlapping):
                    for span in overlapping:
                        del result[span]
                        spans.remove(span)
                    result[(start, end)] = template.at(start, end, text[start:end])
                    bisect.insort(spans, (start, end))
            start = text.find(form, start + 1)
    return result


# A company's organ read as part of its name: "Administración de Telefónica" (of "Consejo de Administración
# de Telefónica"), "Board of Globex".
_ORGAN_OF = re.compile(
    r"^(?:(?:Consejo de )?Administración|Consejo|Board(?: of Directors)?|Conseil d'administration|Directoire)"
    r"\s+(?:de|del|du|of)\s+(?:(?:la|el|the|le)\s+)?",
)


def organ_names(found: dict[tuple[int, int], Entity]) -> dict[tuple[int, int], Entity]:
    """``found`` with a span "organ of X" read as the company X where X is recognised elsewhere as a name."""
    named = {e.text: e for e in found.values() if e.role in _NAMED_ROLES and _is_name(e.text)}
    result = {}
    for (start, end), entity in found.items():
        organ = _ORGAN_OF.match(entity.text)
        company = named.get(entity.text[organ.end() :]) if organ else None
        if organ is not None and company is not None and company.key != entity.key:
            start += organ.end()
            result[(start, end)] = company.at(start, end, company.text)
        else:
            result[(start, end)] = entity
    return result


def titled_aliases(entities: Sequence[_Named]) -> dict[int, int]:
    """Position of a person's span that starts with a title -> position of the same name without it.

    "Mme Sophie Garnier" is the "Sophie Garnier" the document names elsewhere: one person, so one
    key (that of the untitled name, itself a recognised entity), or that of the surname the document
    writes alone ("Requena" for "Sr. D. Álvaro Requena"). A titled name the document never writes
    without its title keeps its own key.
    """
    untitled = {
        e.text: position for position, e in enumerate(entities) if e.role == "PER" and not _TITLES.match(e.text)
    }
    aliases = {}
    for position, entity in enumerate(entities):
        bare = _TITLES.sub("", entity.text) if entity.role == "PER" else entity.text
        if bare == entity.text:
            continue
        # the whole name, else its surname part the document writes alone ("Sr. D. Álvaro Requena",
        # "Estimado Sr. Requena:")
        words = bare.split()
        known = next(
            (untitled[" ".join(words[i:])] for i in range(len(words)) if " ".join(words[i:]) in untitled), None
        )
        if known is not None:
            aliases[position] = known
    return aliases


# A role title the recogniser read as part of a person's name, before or after it ("Chief Executive
# John Smith", "Francisco Morales Morales Magistrado").
_ROLE_WORDS = "|".join(ROLE[language] for language in ("en", "fr", "es"))
_GLUED_TITLE = re.compile(rf"^(?:{_ROLE_WORDS})\s+(?=\w)|(?<=\w)\s+(?:{_ROLE_WORDS})$", re.IGNORECASE)


def glued_titles(entities: Sequence[_Named]) -> dict[int, tuple[int, int, int]]:
    """Position of a person's span with a role title glued to it -> (position of the name without it, its start, end).

    Only where the document names the person without the title too (one person, one key); the
    title, out of the span, is then a word the sentence patterns read ("... Magistrado suplente de X").
    """
    plain = {e.text: position for position, e in enumerate(entities) if e.role == "PER"}
    found = {}
    for position, entity in enumerate(entities):
        title = _GLUED_TITLE.search(entity.text) if entity.role == "PER" else None
        if title is None:
            continue
        start, end = (
            (entity.start + title.end(), entity.end)
            if title.start() == 0
            else (entity.start, entity.start + title.start())
        )
        name = entity.text[start - entity.start : end - entity.start]
        if name in plain and plain[name] != position:
            found[position] = (plain[name], start, end)
    return found
