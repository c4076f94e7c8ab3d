"""One entity per real thing within a document.

Run on one document's mentions after the model has read it (:func:`resolve_document`):

* **defined short forms** join their long form: an acronym defined beside its name
  ("International Business Machines (IBM)", or "IBM (International Business Machines)") and a
  contract's defined alias ("Acme Holdings Ltd. (the “Borrower”)") take the long form's identity
  everywhere in the document; a defined term that names no entity ("“Loan Documents” means ...",
  "(the “Effective Date”)") is no name at all, and its mentions are dropped;
* **partial names** join the full name: a surname or given name alone ("Gonzalez", "Maria") takes
  the identity of the one person's full name in the document that starts or ends with it (when
  two full names share it, it stays apart);
* **names the model missed** in one place are found there too: every further occurrence of a name
  (or a surname, or a defined short form) recognised elsewhere in the document becomes a mention
  of it, written the same way in running text or in any case in a line written in capitals;
* **capitals and title case are one entity** (the key folds case), and every mention of an entity
  carries one **display name**: its longest well-formed surface form, legal form included ("Harbour
  Bank plc"), not written in capitals when another form is.

Pure: mentions and unit texts in, mentions out.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from docflow.core.entity_names import VALUE_LABELS, canonical_key, canonical_name
from tasks.steps.entities import lexicon
from tasks.steps.entities.units import TextUnit

__all__ = ["Known", "defined_forms", "display_names", "find_occurrences", "join_partial_names"]

_NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "LAW"})
# Labels a partial name may carry and still be the person it names (the small model often calls
# a lone surname ORG); a place ("Washington") stays a place.
_PARTIAL_LABELS = frozenset({"PERSON", "ORG", "NORP"})
_QUOTE_OPEN = "\"“”'‘’«"
_QUOTE_CLOSE = "\"”“'’‘»"
# `Name (the "Alias")`, `Name ("ALIAS")`, `Name (hereinafter, the "Alias")`, `Name (ACR)`.
_DEFINITION = re.compile(
    r"\(\s*(?:(?:hereinafter|herein|together|collectively|each|individually|jointly)[\s,]*)?"
    r"(?:referred\s+to\s+as\s+)?(?:(?:the|an?)\s+)?[" + _QUOTE_OPEN + r"]?"
    r"(?P<short>[A-Z][\w&.\-’']*(?:\s+[A-Z][\w&.\-’']*){0,5})[" + _QUOTE_CLOSE + r"]?\s*[),;]"
)
# `“Loan Documents” means`, `"Agent" shall mean`, `"Term" has the meaning`: a defined term.
_TERM_MEANS = re.compile(
    r"[" + _QUOTE_OPEN + r"](?P<term>[A-Z][\w&.\-’']*(?:\s+[\w&.\-’']+){0,5})[" + _QUOTE_CLOSE + r"]\s*"
    r"(?:means|shall\s+mean|has\s+the\s+meaning|shall\s+have\s+the\s+meaning|refers\s+to|is\s+defined)"
)


@dataclass(frozen=True)
class Known:
    """An identity a further occurrence or a short form takes: key, display name, label."""

    key: str
    name: str
    label: str


def _initials(name: str) -> str:
    words = [w for w in re.split(r"[\s\-/]+", name) if w and w.casefold() not in lexicon.MINOR_WORDS]
    return "".join(w[0] for w in words if w[0].isalpha()).upper()


def _is_acronym_of(short: str, long: str) -> bool:
    letters = "".join(ch for ch in short if ch.isalpha())
    if not (2 <= len(letters) <= 8) or not letters.isupper() or len(long.split()) < 2:
        return False
    initials = _initials(long)
    if letters == initials:
        return True
    # Loosely: same first letter and the acronym's letters in order among the long form's letters
    # ("BofA" style acronyms aside): "OSCE" for "Organisation for Security and Cooperation in Europe".
    if letters[0] != initials[:1]:
        return False
    rest = iter(long.upper())
    return all(ch in rest for ch in letters) and len(letters) >= 0.6 * len(initials)


def defined_forms(
    units: Sequence[TextUnit], names_ending_at: Mapping[tuple[int, int], Known]
) -> tuple[dict[str, Known], dict[str, Known], set[str]]:
    """Short forms defined in the document and what they stand for, and the defined terms that
    name nothing.

    ``names_ending_at`` maps ``(chunk_index, char_end)`` of each recognised name to its identity:
    a definition in brackets right after a name ("Acme Ltd. (the “Borrower”)") makes the short
    form that name; an acronym in brackets needs its letters to fit the name. Returns
    ``({short form key: identity}, {short form as written: identity}, {keys of terms defined
    without a name})``.
    """
    aliases: dict[str, Known] = {}
    written: dict[str, Known] = {}
    terms: set[str] = set()
    for unit in units:
        for match in _DEFINITION.finditer(unit.text):
            short = match.group("short")
            start = unit.offset + match.start()
            # The name ends right before the bracket (spaces and a comma between allowed).
            before = unit.text[: match.start()]
            gap = len(before) - len(before.rstrip(" ,"))
            known = names_ending_at.get((unit.chunk_index, start - gap))
            quoted = match.group(0).lstrip("( ").startswith(tuple(_QUOTE_OPEN)) or re.search(
                r"\b(?:the|an?|hereinafter|referred)\b", match.group(0)[: match.start("short") - match.start()]
            )
            key = canonical_key(short)
            if known is not None and known.key != key and (quoted or _is_acronym_of(short, known.name)):
                aliases.setdefault(key, known)
                written.setdefault(short, known)
            elif known is not None and not quoted and _is_acronym_of(known.name, short):
                # Reversed: "IBM (International Business Machines)": the acronym takes the long form.
                aliases.setdefault(known.key, Known(key, canonical_name(short), known.label))
            elif known is None and quoted and not short.isupper():
                terms.add(key)
            elif known is None and not quoted and _defines_common_noun(short, before):
                # "long terminal repeat (LTR)", "earnings per share (EPS)": an abbreviation of
                # words written in lower case is a term, not a name.
                terms.add(key)
        for match in _TERM_MEANS.finditer(unit.text):
            terms.add(canonical_key(match.group("term")))
        for match in _GLOSSARY.finditer(unit.text):
            terms.add(canonical_key(match.group("short")))
    return aliases, written, terms - set(aliases)


def _defines_common_noun(short: str, before: str) -> bool:
    """ "long terminal repeat (LTR)", "Greenhouse gas (GHG)": the abbreviation's letters come, in
    order, from the last words before the bracket, written in lower case (the first may open the
    sentence), each word's initial among them."""
    letters = "".join(ch for ch in short if ch.isalpha())
    if not (2 <= len(letters) <= 6) or not letters.isupper():
        return False
    words = [w for w in re.split(r"[\s\-/]+", before.rstrip(" ,")) if w][-2 * len(letters) :]
    content = [w for w in words if w.casefold() not in lexicon.MINOR_WORDS]
    for size in range(len(letters), 1 if len(letters) > 2 else 0, -1):
        tail = content[-size:]
        if len(tail) < size or not all(w[:1].isalpha() for w in tail):
            continue
        if not all(w[:1].islower() for w in tail[1:]) or (size == 1 and not tail[0][:1].islower()):
            continue
        initials = "".join(w[0] for w in tail).upper()
        if initials[0] == letters[0] and _in_order(initials, letters) and _in_order(letters, "".join(tail).upper()):
            return True
    return False


def _in_order(part: str, whole: str) -> bool:
    rest = iter(whole)
    return all(ch in rest for ch in part)


# "DEC = diethylcarbamazine; ALB = albendazole": a list of abbreviations of lower-case words.
_GLOSSARY = re.compile(r"(?<![\w\-])(?P<short>[A-Z][A-Za-z]{1,7})\s*=\s*[a-z][a-z\-]+")


def join_partial_names(full_names: Iterable[Known]) -> dict[str, Known]:
    """Surname and given name (case-folded) -> the one full person name they belong to.

    Only persons of two words or more count; a word shared by two different full names maps to
    nothing (it could be either).
    """
    owners: dict[str, set[Known]] = defaultdict(set)
    for known in full_names:
        words = known.name.split()
        if known.label != "PERSON" or len(words) < 2:
            continue
        for word in (words[0], words[-1]):
            folded = word.casefold().rstrip(".")
            if len(folded) >= 2 and folded not in lexicon.MINOR_WORDS:
                owners[canonical_key(folded)].add(known)
    return {word: next(iter(people)) for word, people in owners.items() if len(people) == 1}


def partial_label_fits(label: str) -> bool:
    return label in _PARTIAL_LABELS


def _boundary(text: str, start: int, end: int) -> bool:
    return (start == 0 or not (text[start - 1].isalnum() or text[start - 1] in "-'’")) and (
        end == len(text) or not (text[end].isalnum() or text[end] in "-")
    )


def find_occurrences(
    units: Sequence[TextUnit], surfaces: Mapping[str, Known], taken: Mapping[int, list[tuple[int, int]]]
) -> list[tuple[int, int, int, Known]]:
    """Occurrences of ``surfaces`` (written form -> identity) that no mention covers yet.

    ``(chunk_index, char_start, char_end, identity)``, chunk offsets. In running text a surface
    matches as written (case included) on word boundaries; in a unit written in capitals, in any
    case. Longer surfaces are tried first, and an occurrence never overlaps a mention or another
    occurrence.
    """
    if not surfaces:
        return []
    # A name also matches written in capitals inside mixed text ("... vs NORWICH CITY"); short
    # forms only as written (an acronym's capitals are its own).
    surfaces = {**{s.upper(): k for s, k in surfaces.items() if len(s) >= 4 and not s.isupper()}, **surfaces}
    ordered = sorted(surfaces, key=lambda s: (-len(s), s))
    pattern = re.compile("|".join(re.escape(s) for s in ordered))
    folded = {s.casefold(): s for s in reversed(ordered)}
    pattern_any_case = re.compile("|".join(re.escape(s) for s in ordered), re.IGNORECASE)
    found: list[tuple[int, int, int, Known]] = []
    occupied = {chunk: list(spans) for chunk, spans in taken.items()}
    for unit in units:
        matcher = pattern_any_case if unit.restored else pattern
        spans = occupied.setdefault(unit.chunk_index, [])
        for match in matcher.finditer(unit.text):
            start, end = unit.offset + match.start(), unit.offset + match.end()
            if not _boundary(unit.text, match.start(), match.end()):
                continue
            if any(s < end and start < e for s, e in spans):
                continue
            surface = match.group() if not unit.restored else folded.get(match.group().casefold())
            if surface is None or surface not in surfaces:
                continue
            spans.append((start, end))
            found.append((unit.chunk_index, start, end, surfaces[surface]))
    return found


def _well_formed(name: str) -> bool:
    letters = [ch for ch in name if ch.isalpha()]
    return bool(letters) and not all(ch.isupper() for ch in letters)


def display_names(forms: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Key -> display name over ``(key, surface text)`` pairs: the longest well-formed form (not in
    capitals when another is; legal form kept), then the most frequent, then the first seen."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    order: dict[tuple[str, str], int] = {}
    for i, (key, text) in enumerate(forms):
        name = canonical_name(text)
        if name:
            seen[key][name] += 1
            order.setdefault((key, name), i)
    best: dict[str, str] = {}
    for key, counts in seen.items():
        best[key] = min(
            counts,
            key=lambda n: (not _well_formed(n), -len(n), -counts[n], order[(key, n)]),
        )
    return best


def is_name_label(label: str) -> bool:
    return label in _NAME_LABELS and label not in VALUE_LABELS


def with_identity(mention, known: Known):  # type: ignore[no-untyped-def]  # a Mention, kept generic
    """``mention`` under ``known``'s key, display name and label."""
    return replace(mention, canonical_key=known.key, canonical_name=known.name, label=known.label)
