"""The pieces of a document's text that the recognizer reads, one at a time.

A paragraph is a unit (across a blank line the model glued headings onto names); a row of a
table (cells joined by " | ", as the spreadsheet and CSV extractors write them) is one unit per
cell, so two neighbouring cells (a city and a person) never become one name. A unit written in
capitals ("CRICKET - LEICESTERSHIRE TAKE OVER AT TOP", "LONDON 1996-08-30", a heading) is read
from a case-restored copy of the same length, so offsets still point into the original: a word's
casing is the one the document itself uses elsewhere when it does, lower case for function words,
and title case otherwise. The model, trained on mixed-case text, finds almost no name in capitals.
A piece whose words are broken into letters (a PDF text layer laid out letter by letter), and an
encyclopaedia's list of the article's languages, and a line of a program or query in capitals
(identifiers joined by underscores, assignments), are not read at all: the model only finds fragments of
words, languages as people, or user ids as people, there.

Pure: plain strings in and out.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from tasks.steps.entities import lexicon

__all__ = [
    "TextUnit",
    "casing_evidence",
    "has_broken_layer",
    "is_capitals",
    "is_code_in_capitals",
    "is_letter_spaced",
    "language_list",
    "restore_capital_runs",
    "restore_case",
    "text_units",
]

# A blank line ends a paragraph (chunk texts join elements with "\n\n").
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")
_CELL_SEPARATOR = re.compile(r"[^\S\n]\|[^\S\n]|\t")
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")


@dataclass(frozen=True)
class TextUnit:
    """One piece of a chunk's text: ``chunk_text[offset:offset + len(text)] == text``.

    ``ner_text`` is what the model reads: ``text`` itself, or its case-restored copy (same length).
    """

    chunk_index: int
    offset: int
    text: str
    ner_text: str
    restored: bool = False  # ner_text is a case-restored copy of a unit written in capitals
    in_table: bool = False  # a cell of a table row


def is_capitals(text: str) -> bool:
    """Written in capitals: four letters or more, 85% of them upper case, a word longer than one letter."""
    words = _WORD.findall(text)
    letters = [ch for w in words for ch in w if ch.isalpha()]
    if len(words) < 1 or len(letters) < 4:
        return False
    upper = sum(ch.isupper() for ch in letters)
    return upper >= 0.85 * len(letters) and any(len(w) > 1 for w in words)


# An identifier joined by underscores ("CURRENT_USER", "TAX_ID") or an assignment ("USER = ALICE",
# "USRPRF=*OWNER"): a line of a program, a query or a configuration.
_CODE = re.compile(r"[^\W\d_]_[^\W_]|[^\W_]_[^\W\d_]|\w\s*=\s*[\w*'\"]")


def is_code_in_capitals(text: str) -> bool:
    """A line in capitals that holds an identifier joined by underscores or an assignment: a
    statement of a program, a query or a configuration ("VERIFY_GROUP_FOR_USER (CURRENT_USER,
    'JANE')", "USER = ALICE"). Not a heading: its words are identifiers and values, and read
    case-restored its user ids look like people."""
    return is_capitals(text) and bool(_CODE.search(text))


def casing_evidence(texts: Iterable[str]) -> dict[str, str]:
    """Word (case-folded) -> its most frequent written form in the non-capitals parts of ``texts``.

    Only forms seen inside a sentence count (not its first word), so "Over" at a sentence start
    does not make "over" a name.
    """
    seen: dict[str, Counter[str]] = {}
    for text in texts:
        for line in text.split("\n"):
            if is_capitals(line):
                continue
            for sentence in re.split(r"(?<=[.!?:;])\s+", line):
                for i, match in enumerate(_WORD.finditer(sentence)):
                    word = match.group()
                    if i == 0 or word.isupper():
                        continue
                    seen.setdefault(word.casefold(), Counter())[word] += 1
    return {folded: forms.most_common(1)[0][0] for folded, forms in seen.items()}


def _recase(word: str, evidence: Mapping[str, str], first: bool, unknown_lower: bool) -> str:
    folded = word.casefold()
    form = evidence.get(folded)
    if form is None:
        if (folded in lexicon.FUNCTION_WORDS or unknown_lower) and not first:
            form = folded
        elif len(word) <= 3 and not any(ch in "AEIOUY" for ch in word):
            form = word  # "BBC", "NHS", "USA"-like: an acronym stays in capitals
        else:
            form = word[:1] + word[1:].lower()
    elif first and form.islower():
        form = form[:1].upper() + form[1:]
    # Same length, character for character, or the original (offsets must not move).
    return form if len(form) == len(word) else word


def restore_case(text: str, evidence: Mapping[str, str], *, unknown_lower: bool = False) -> str:
    """``text`` (written in capitals) with each word in the casing :func:`casing_evidence` found, of
    the same length; the first word of the text and of each sentence starts with a capital. A word
    the document never writes otherwise is in title case (``unknown_lower``: in lower case)."""
    out: list[str] = []
    last = 0
    first = True
    for match in _WORD.finditer(text):
        between = text[last : match.start()]
        out.append(between)
        if re.search(r"[.!?:;\-–—|]\s*$", between) or "\n" in between:
            first = True
        out.append(_recase(match.group(), evidence, first, unknown_lower))
        first = False
        last = match.end()
    out.append(text[last:])
    restored = "".join(out)
    return restored if len(restored) == len(text) else text


# Two or more words in capitals in a row, within a line of mixed text ("ITEM 1B. UNRESOLVED STAFF
# COMMENTS A smaller reporting company ..."): a heading run into its paragraph.
_CAPITAL_RUN = re.compile(r"\b[^\W\d_a-z]{2,}(?:[^\S\n]+[^\W\d_a-z]{2,}|[^\S\n]*[&,.\-–][^\S\n]*[^\W\d_a-z]{2,})+\b")


def restore_capital_runs(text: str, evidence: Mapping[str, str]) -> str:
    """``text`` with each run of two or more words in capitals case-restored (same length); a single
    word in capitals is an acronym ("IBM", "NYSE") and stays. Inside mixed text such a run is a
    heading or a legal notice far more often than a name ("LIMITED WARRANTY", "INDIRECT,
    CONSEQUENTIAL ... DAMAGES"), so words the document never writes otherwise go to lower case: a
    name it writes elsewhere keeps its capitals, and is found there anyway."""
    if not _CAPITAL_RUN.search(text):
        return text
    return _CAPITAL_RUN.sub(lambda m: restore_case(m.group(), evidence, unknown_lower=True), text)


def _pieces(text: str) -> Iterator[tuple[int, str]]:
    """``(offset, paragraph)`` for each paragraph of ``text`` holding more than whitespace."""
    start = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        if text[start : match.start()].strip():
            yield start, text[start : match.start()]
        start = match.end()
    if text[start:].strip():
        yield start, text[start:]


def _cells(offset: int, paragraph: str) -> Iterator[tuple[int, str, bool]]:
    """A paragraph whose lines are table rows ("a | b | c"), cell by cell; any other paragraph whole."""
    lines = paragraph.split("\n")
    if not all(_CELL_SEPARATOR.search(line) for line in lines if line.strip()):
        yield offset, paragraph, False
        return
    position = 0
    for line in lines:
        start = 0
        for match in [*_CELL_SEPARATOR.finditer(line), None]:
            end = match.start() if match else len(line)
            cell = line[start:end]
            if cell.strip():
                lead = len(cell) - len(cell.lstrip())
                yield offset + position + start + lead, cell.strip(), True
            if match:
                start = match.end()
        position += len(line) + 1


# "^ a b c d": an encyclopaedia's back-links to a note's citations.
_BACK_LINKS = re.compile(r"\^(?:\s+[a-z]\b)+")


def _pieces_of_words(words: list[str], *, capitals: bool) -> int:
    small = sum(1 for w in words if len(w) <= 2 and w.isalpha() and w.islower() and w not in lexicon.SHORT_WORDS)
    if not capitals:
        return small
    return small + sum(1 for w in words if len(w) == 1 and w.isupper() and w not in "AI")


def is_letter_spaced(text: str, *, broken_layer: bool = False) -> bool:
    """Words broken into letters and pieces ("R o w a n d C o l u m n Ac c e s s", "Kent M i l l
    igan", "defau lt pu bl ic"): a PDF text layer laid out letter by letter. What a model finds in
    it is fragments. Three or more pieces of one or two small letters that are no word of their
    own (:data:`.lexicon.SHORT_WORDS`), making a tenth of the words or more. In a document whose
    layer is broken so (``broken_layer``, :func:`has_broken_layer`), one piece is enough, and a
    capital letter alone (but "A" and "I") counts too: "SET O PTI O N USR", "Demonstrati ng"."""
    words = _BACK_LINKS.sub(" ", text).split()
    if broken_layer:
        return _pieces_of_words(words, capitals=True) >= 1
    pieces = _pieces_of_words(words, capitals=False)
    return pieces >= 3 and pieces >= 0.1 * len(words)


def has_broken_layer(texts: Iterable[str]) -> bool:
    """One paragraph in ten or more of ``texts`` (a document's chunks) is letter-spaced (a formula's
    variables, "w | (i) s , w | (i) e", make a few paragraphs look so in a sound layer)."""
    paragraphs = [p for text in texts for _, p in _pieces(text)]
    broken = sum(1 for p in paragraphs if is_letter_spaced(p))
    return broken >= 3 and broken >= 0.1 * len(paragraphs)


def _scripts(text: str) -> set[str]:
    """The writing systems of ``text``'s letters ("LATIN", "CYRILLIC", "ARABIC", "CJK", ...)."""
    return {unicodedata.name(ch, "?").split()[0] for ch in text if ch.isalpha()}


def language_list(paragraphs: list[str]) -> set[int]:
    """Indexes of the paragraphs that make a list of names in four writing systems or more: five
    or more short paragraphs in a row ("Aymar aru", "Беларуская", "Tiếng Việt", ...), an
    encyclopaedia's links to the same article in other languages. Not names of things."""
    marked: set[int] = set()
    run: list[int] = []
    for i, paragraph in enumerate([*paragraphs, None]):
        if paragraph is not None and len(paragraph.split()) <= 4:
            run.append(i)
            continue
        if len(run) >= 5 and len(set().union(*(_scripts(paragraphs[j]) for j in run))) >= 4:
            marked.update(run)
        run = []
    return marked


def text_units(
    chunk_index: int, text: str, evidence: Mapping[str, str], *, broken_layer: bool = False
) -> Iterator[TextUnit]:
    """The units of one chunk's text, in order (see the module docstring); a letter-spaced piece
    (:func:`is_letter_spaced`, with ``broken_layer``) and a paragraph of a list of names in many
    writing systems (:func:`language_list`) are no units: they are not read."""
    pieces = list(_pieces(text))
    listed = language_list([paragraph for _, paragraph in pieces])
    for i, (offset, paragraph) in enumerate(pieces):
        if i in listed:
            continue
        for cell_offset, cell, in_table in _cells(offset, paragraph):
            if is_letter_spaced(cell, broken_layer=broken_layer):
                continue
            if is_capitals(cell):
                # Each line of a capitals unit on its own: a heading above a dateline are two things.
                position = 0
                for line in cell.split("\n"):
                    if line.strip() and not is_code_in_capitals(line):
                        capitals = is_capitals(line)
                        ner = restore_case(line, evidence) if capitals else line
                        yield TextUnit(chunk_index, cell_offset + position, line, ner, capitals, in_table)
                    position += len(line) + 1
            else:
                yield TextUnit(chunk_index, cell_offset, cell, restore_capital_runs(cell, evidence), False, in_table)
