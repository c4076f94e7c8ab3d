"""Names that are only names: what a recognised span keeps, and which spans are no name at all.

:func:`name_spans` cuts a model span (a run of spaCy tokens) down to the name it holds: no leading
article ("the United States"), honorific or job title ("Mr", "defender", "Chief Executive"), and
before a person no nationality ("American Dennis Mitchell"); no leading or trailing numbers from
a table row ("Durham 114", "2 - Rodney Eyles"), no second table cell or heading glued on across a
spaced dash, a bracket or a line break ("Romania - Cosmin Contra", "Scott Draper (Australia").
A place written "Grace Road, Leicestershire" gives two places.

:func:`is_plausible_name` refuses what only looks like a name to a model: formula and citation
fragments ("et al.", "x_1 = 2"), phone numbers, OCR garbage (runs of consonants, case flipping
inside words), strings that are mostly not letters.

Pure, no model loading: the functions read tokens' text, case and spacing only, so they work on
any spaCy pipeline and on a case-restored copy of a line written in capitals.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from docflow.core.entity_names import LEGAL_FORMS
from tasks.steps.entities import lexicon

__all__ = [
    "follows_rank",
    "is_acronym_person",
    "is_common_words",
    "is_plausible_name",
    "is_reference_or_heading",
    "name_spans",
    "trim_text",
]

_SPACED_DASHES = frozenset({"-", "–", "—", "--", "|", "/"})
_OPENING = frozenset({"(", "[", "{"})
_CLOSING = frozenset({")", "]", "}"})
_NUMBERISH = re.compile(r"^[#(]?[\d][\d.,:/=+\-–]*[)%]?$|^[\d.,]+(?:st|nd|rd|th)$|^\d+=$|^=\d+$", re.IGNORECASE)
_PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
# Labels whose names may end in a number ("Apollo 11", "Terminal 5", "Windows 95").
_NUMBERED_LABELS = frozenset({"PRODUCT", "EVENT", "LAW", "FAC"})


def _fold(token: Any) -> str:
    return token.text.casefold().rstrip(".")


def _is_numberish(token: Any) -> bool:
    return bool(token.like_num or _NUMBERISH.match(token.text))


def _has_capital(token: Any) -> bool:
    return any(ch.isupper() for ch in token.text)


def _separator_at(tokens: Sequence[Any], i: int) -> bool:
    """A token that separates two names: a spaced dash/pipe, a bracket, or a line break."""
    token = tokens[i]
    if token.is_space and "\n" in token.text:
        return True
    if token.text in _OPENING or token.text in _CLOSING:
        return True
    if token.text in _SPACED_DASHES:
        before = tokens[i - 1].whitespace_ if i > 0 else " "
        return bool(before) and bool(token.whitespace_)
    return "\n" in token.whitespace_ and i < len(tokens) - 1


def _parts(tokens: Sequence[Any], label: str) -> list[list[Any]]:
    """The span's pieces between separators; the piece kept is the longest (the last on a tie),
    except that a bracket keeps what stands before it. Places also split at a comma."""
    pieces: list[list[Any]] = [[]]
    bracket_cut: int | None = None
    for i, token in enumerate(tokens):
        if _separator_at(tokens, i):
            if token.text in _OPENING and bracket_cut is None:
                bracket_cut = len(pieces)
            if not (token.is_space or token.text in _OPENING or token.text in _CLOSING or token.text in _SPACED_DASHES):
                pieces[-1].append(token)  # a token carrying the line break in its whitespace
            pieces.append([])
        else:
            pieces[-1].append(token)
    pieces = [p for p in pieces if p]
    if len(pieces) > 1:
        if bracket_cut is not None and any(pieces[:bracket_cut]):
            pieces = [max(pieces[:bracket_cut], key=len)]
        else:
            pieces = [max(reversed(pieces), key=len)]
    if label in _PLACE_LABELS and pieces:
        split: list[list[Any]] = [[]]
        for token in pieces[0]:
            if token.text == ",":
                split.append([])
            else:
                split[-1].append(token)
        if len(split) > 1 and all(p and _has_capital(p[0]) for p in split):
            return split
    return pieces


_LEADING_WORDS = lexicon.TITLES | lexicon.HONORIFICS | lexicon.DEMONYMS | lexicon.OFFICE_WORDS


def _trim(tokens: list[Any], label: str) -> list[Any]:
    start, end = 0, len(tokens)
    person = label == "PERSON"
    while start < end:
        token = tokens[start]
        folded = _fold(token)
        remaining = end - start - 1
        if token.is_punct or token.is_space or _is_numberish(token):
            start += 1
        elif folded in lexicon.ARTICLES and (token.is_lower or remaining >= 2):
            # A capital "The" stays when one word follows: "The Hague", "The Beatles".
            start += 1
        elif (
            person
            and remaining
            and (folded in lexicon.HONORIFICS or folded in lexicon.TITLES or folded in lexicon.DEMONYMS)
        ):
            start += 1
        elif person and remaining and folded == "of" and start > 0:
            start += 1  # "Secretary of State George Shultz": "of" between two title words
        elif token.is_lower and remaining and (folded in _LEADING_WORDS or folded.startswith(("ex-", "co-"))):
            # "defender Hassan Abbas", "former Congo", "ex-England"; other lower-case words stay:
            # French and Spanish names start with them ("océan Pacifique", "mont Blanc", "île de Ré").
            start += 1
        elif person and folded.startswith("ex-") and remaining:
            start += 1
        else:
            break
    if not person and start < end and _fold(tokens[start]) in lexicon.TITLES | lexicon.OFFICE_WORDS:
        # "VP of Internal Audit for Genting Americas", "Director of New Business of Betson
        # Enterprises": an office held at an organisation; the organisation is what follows.
        connectors = [i for i in range(start + 1, end - 1) if tokens[i].lower_ in ("of", "for", "at")]
        if connectors:
            start = connectors[-1] + 1
    while end > start:
        token = tokens[end - 1]
        if _fold(token) in lexicon.ADDRESS_UNITS and end - start > 1:
            end -= 1  # "Cameron Street Ste." (Ste. 305)
        elif token.text == "." and end - start > 2 and _fold(tokens[end - 2]) in lexicon.ADDRESS_UNITS:
            end -= 2
        elif (
            token.is_punct
            and token.text not in (".", ")")
            or token.is_space
            or token.text == ")"
            and not any(t.text == "(" for t in tokens[start : end - 1])
            or _is_numberish(token)
            and label not in _NUMBERED_LABELS
            and end - start > 1
        ):
            end -= 1
        elif token.is_stop and token.is_lower:
            end -= 1  # "Amara Nwosu of"
        elif token.text.casefold() in ("'s", "’s"):
            end -= 1
        elif end - start > 2 and _fold(tokens[end - 2]) == "et" and _fold(token) == "al":
            end -= 2  # "Zhang et al.": the citation's first author
        else:
            break
    return tokens[start:end]


_ROMAN = re.compile(r"^[ivxlcdm]+\.?$", re.IGNORECASE)
_NUMERAL = re.compile(r"^[IVXL]+\.?$")


def is_reference_or_heading(tokens: Sequence[Any], label: str) -> bool:
    """A span that is a reference ("Item 12", "Fig", "CHAPTER VII") or a heading/document title
    ("Supplementary Financial Information", "Articles of Incorporation"), not a name."""
    if label in ("DATE", "MONEY") or not tokens:
        return False
    words = [t for t in tokens if not (t.is_punct or t.is_space)]
    if not words:
        return True
    first, last = _fold(words[0]), _fold(words[-1])
    numbered = any(any(ch.isdigit() for ch in t.text) or _ROMAN.match(t.text) for t in words[1:])
    if first in lexicon.REFERENCE_WORDS and (len(words) == 1 or numbered):
        return True
    if len(words) == 1 and len(words[0].text) >= 2 and _NUMERAL.match(words[0].text):
        return True  # "XXII", "XIV": a chapter or list number
    if label == "LAW" and last in ("act", "code", "constitution", "treaty", "convention", "directive", "regulation"):
        return False
    return len(words) > 1 and last in lexicon.GENERIC_HEADS


def _only_titles(tokens: Sequence[Any]) -> bool:
    """ "Mr.", "Chief Executive": forms of address and offices with no name after them."""
    words = [_fold(t) for t in tokens if not (t.is_punct or t.is_space)]
    return all(w in lexicon.HONORIFICS or w in lexicon.TITLES for w in words)


def name_spans(tokens: Sequence[Any], label: str) -> list[tuple[int, int]]:
    """The name(s) inside a recognised span, as ``(first, last + 1)`` token indexes into ``tokens``.

    ``tokens`` are the span's spaCy tokens (``span[:]`` or a list of them). An empty list means the
    span holds no name (only a title, a number, punctuation). Each returned piece starts and ends
    with a word and has at least one letter; a person's name or a place keeps at least one word
    with a capital letter.
    """
    tokens = list(tokens)
    index = {id(t): i for i, t in enumerate(tokens)}
    out: list[tuple[int, int]] = []
    for piece in _parts(tokens, label):
        kept = _trim(piece, label)
        if not kept or not any(ch.isalpha() for t in kept for ch in t.text):
            continue
        if is_reference_or_heading(kept, label) or is_reference_or_heading(piece, label) or _only_titles(kept):
            continue
        if not any(_has_capital(t) for t in kept):
            continue  # "toboggans", "eastern": a name is written with a capital
        out.append((index[id(kept[0])], index[id(kept[-1])] + 1))
    return out


_FORMULA = re.compile(r"[=<>^_{}\\#@~∑∫±×÷√∂∆∇≈≠≤≥→←]")
_CITATION = re.compile(r"\bet\.?\s+al\b|\bibid\b|\bop\.\s*cit\b|\bpp?\.\s*\d", re.IGNORECASE)
_PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")
_VOWELS = set("aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœ")


def _garbled(word: str) -> bool:
    letters = [ch for ch in word if ch.isalpha()]
    if len(letters) < 4 or not all(ch.isascii() for ch in letters):
        return False
    if word.isupper() or word.casefold().strip(".,") in LEGAL_FORMS:
        return False  # an acronym ("HSBC", "NYSE") or a legal form ("GmbH")
    if not any(ch.casefold() in _VOWELS for ch in letters):
        return True  # "rnnl", "Wtsq"
    flips = sum(1 for a, b in zip(letters, letters[1:], strict=False) if a.islower() and b.isupper())
    return flips >= 2  # "tHeRe"; one flip is a name: "McDonald", "iPhone", "DeVito"


def is_plausible_name(text: str, label: str) -> bool:
    """Whether ``text`` can be a name of kind ``label`` at all (values are not checked).

    Refuses formula symbols, citation fragments ("Smith et al."), phone numbers, text that is
    less than half letters, one-letter names, and OCR garbage (a word of four letters or more
    without a vowel, or with case flipping back and forth inside it); identifiers of genes,
    strains and methods ("H3K4me1", "ChIP", "ETnI"; products may look so); a biological family
    or order ("Anserinae", "Muroidea"); a person's name with a small word that is no particle
    ("Wuchereria bancrofti"); a person's name ending
    in an initial ("Kathryn L.": cut short, or an author list's given names).
    """
    if label in ("DATE", "MONEY"):
        return True
    stripped = "".join(text.split())
    letters = sum(ch.isalpha() for ch in stripped)
    if letters < 2 or letters < 0.5 * len(stripped):
        return False
    if _FORMULA.search(text) or _CITATION.search(text) or _PHONE.search(text):
        return False
    words = re.split(r"[\s\-–/]+", text)
    if any(_IDENTIFIER.search(word) for word in words):
        return False  # "H3K4me1", "C2H2", "Chr13.1-cl": a gene, a protein, a strain
    if label in _NO_DIGITS and any(ch.isdigit() for ch in text):
        return False  # a person or a place has no digits: "ZFP617", "RLTR4"
    if any(_TAXON.match(word) for word in words):
        return False  # "Anserinae", "Muroidea": a family or order of living things
    if label == "PERSON" and any(w.isalpha() and w.islower() and w not in _PERSON_LOWER for w in words):
        return False  # "Wuchereria bancrofti": a species; a person's name has small words only as particles
    if label == "PERSON" and "," not in text and _LONE_INITIAL.search(text):
        return False  # "Kathryn L.", "Thomas J": a name cut after an initial (an author list, a line end)
    if label != "PRODUCT" and len(text.split()) <= 2 and _identifier_shaped(words):
        return False  # "ChIP", "ETnI", "CoE", "MuLV": a method, a gene, an abbreviation
    return not any(_garbled(word) for word in words)


def _identifier_shaped(words: Sequence[str]) -> bool:
    if any(w.casefold().strip(".,") in LEGAL_FORMS for w in words):
        return False  # "TableMAX Gaming, Inc.": a company
    return any(_MIXED_IDENTIFIER.search(word.strip(".,;:()'’")) for word in words)


def is_acronym_person(text: str, *, restored: bool) -> bool:
    """One word in capitals read as a person in mixed-case text ("user profile JOE", "95% CI",
    "the ISO standards"): a user id, an acronym or a keyword. In a line written in capitals (read
    case-restored, ``restored``) a person's name is written so too, and counts."""
    return not restored and len(text.split()) == 1 and text.isupper() and len(text) >= 2


_IDENTIFIER = re.compile(r"[A-Za-z]\d+[.\-]?\d*[.\-]?[A-Za-z]|[A-Za-z]\d+\.\d")
_NO_DIGITS = frozenset({"PERSON", "GPE", "LOC", "NORP"})
_PERSON_LOWER = lexicon.PARTICLES | lexicon.MINOR_WORDS | {"do", "e", "los", "las"}
_TAXON = re.compile(r"^[A-Z][a-z]{2,}(?:inae|idae|oidea|iformes|aceae)$")
_LONE_INITIAL = re.compile(r"(?:^|\s)[A-Z]\.?$")
# A capital after a small letter that ends the word or is followed by another capital: "ChIP",
# "ETnI", "CoE". A name's inner capital starts a syllable ("McDonald", "PowerPoint", "iPhone").
_MIXED_IDENTIFIER = re.compile(r"[a-z][A-Z](?:[A-Z]|$)")
_DANGLING = re.compile(r"\s*[(\[][^)\]]*$")
# A name of two words or more whose last word is a plain capitalised word with one or two digits
# glued on: a footnote's number ("Resource Center1"). Not "DESeq2", "Chr4", "Airbus A320".
_FOOTNOTE_MARK = re.compile(r"(?<=\s[A-Z][a-z]{3})([a-z]*)\d{1,2}$")
_MAY_END_IN_DIGITS = frozenset({"PRODUCT", "LAW", "EVENT"})


def trim_text(text: str, label: str = "") -> str:
    """A surface text without what a tokenizer left glued to it: an unclosed bracket and what
    follows ("Mark A. Lipparelli(1", "League Two.[63"), a footnote's number glued to the last word
    of a name of two words or more ("Identity Theft Resource Center1"; never for ``label`` PRODUCT,
    LAW or EVENT, whose numbers are theirs); a prefix of ``text``."""
    cut = _DANGLING.sub("", text)
    if cut != text:
        return cut.rstrip(" ,;:-–—")
    if label not in _MAY_END_IN_DIGITS:
        return _FOOTNOTE_MARK.sub(r"\1", text)
    return text


def is_common_words(text: str, evidence: Mapping[str, str]) -> bool:
    """Every word of ``text`` (but connectors) is one the document itself writes in lower case
    inside sentences ("Diluted", "Practice Ground", "Board of Directors"): a heading, a table label
    or a sentence's first word, not a name. ``evidence`` is :func:`.units.casing_evidence`."""
    words = [w for w in re.findall(r"[^\W\d_]+", text) if w.casefold() not in lexicon.MINOR_WORDS]
    return bool(words) and all((form := evidence.get(w.casefold())) is not None and form.islower() for w in words)


_RANK = re.compile(r"\b(?:tribe|genus|subgenus|family|subfamily|superfamily|order|suborder|species|subspecies)\s+$")


def follows_rank(before: str) -> bool:
    """``before`` (the text up to a span) ends in a taxonomic rank written in lower case: "the tribe
    Oxyurini", "the genus Anas". What follows is the name of a group of living things."""
    return bool(_RANK.search(before[-20:]))
