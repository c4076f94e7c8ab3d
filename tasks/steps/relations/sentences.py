"""Relationships stated inside one sentence: patterns over the words between two names, checked by the parse.

For every ordered pair of entities ``a`` before ``b`` in a sentence, the rules look at three strings,
lower-cased, with the sentence's other entities written as ``⟨org⟩``, ``⟨per⟩``, ``⟨loc⟩``...:
``mid`` (between ``a`` and ``b``), ``pre`` (before ``a``, back to the previous entity) and ``post``
(after ``b``, up to the next one). A pattern (:mod:`.patterns`) matches ``mid`` as a whole and, where
it says so, the end of ``pre`` or the start of ``post``.

Before matching, ``mid`` is cleaned of what does not bear on the pair: parenthesised asides
("(ci-après « RLG »)", "(the \"Agreement\")") and appositions holding one other entity
(", a subsidiary of ⟨org⟩,", ", acteur français de la beauté dont le siège est à ⟨loc⟩,"), so that
"Groupe Arvel, …, annonce avoir finalisé l'acquisition de Solenne" reads as one clause. A pair with
another entity of ``b``'s kind between them is not read (the nearer one is the argument), except in
lists: a match is carried over to names coordinated with either end ("in Illinois, Ohio and
Ontario"; "Mutua Madrileña, Alantra Partners y 3Axis tendrán el control de ...").

Patterns marked ``far`` allow long stretches between the two names; they hold only when the
dependency parse joins the two names through the pattern's trigger word (the shortest path between
their heads passes through it). Negations and hypotheticals between the names ("has no office in",
"n'a pas confirmé son intention de racheter", "is considering an offer for") cancel a match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from tasks.steps.relations.clauses import COORDINATION, PARENTHESES, clean_between, governed, in_aside
from tasks.steps.relations.document import Entity, Sentence
from tasks.steps.relations.lexicon import DATE, FORMER, HYPOTHETICAL, NEGATION, role_type
from tasks.steps.relations.model import Finding
from tasks.steps.relations.pattern_sets import patterns_for
from tasks.steps.relations.patterns import Pattern

__all__ = ["SentenceReader", "read_sentence"]

_PLACEHOLDER = "⟨{}⟩"


@dataclass(frozen=True)
class _Pair:
    a: Entity
    b: Entity
    mid: str
    pre: str
    post: str
    a_index: int  # position of a and b among the sentence's entities
    b_index: int


def _normalise(text: str) -> str:
    """Lower case, one space for any run of white space (kept at the ends: patterns expect " of ")."""
    return re.sub(r"\s+", " ", text.replace("’", "'")).casefold()


# The most text a pattern reads between two names (the longest gaps of patterns.py add up to less):
# a long enumeration of names costs pairs within this distance only.
_MAX_BETWEEN = 400


class SentenceReader:
    """Reads one sentence: the strings around each pair, the parse when a ``far`` pattern needs it."""

    def __init__(self, sentence: Sentence, language: str, parse: Callable[[str], Any] | None):
        self.sentence = sentence
        self.language = language
        self._parse = parse
        self._doc: Any = None
        self.entities = [e for e in sentence.entities if e.role not in ("DATE", "GENERIC")]
        self.dates = _dates(sentence, language)

    def _text(self, start: int, end: int, *, skip: Sequence[Entity] = ()) -> str:
        """Document text ``[start, end)`` with the entities inside it as placeholders."""
        pieces, position = [], start
        for entity in self.sentence.entities:
            # Dates and stand-ins ("the Board") are words like any other between two names.
            if entity.start < start or entity.end > end or entity in skip or entity.role in ("DATE", "GENERIC"):
                continue
            pieces.append(self.sentence.text[position - self.sentence.start : entity.start - self.sentence.start])
            pieces.append(_PLACEHOLDER.format(entity.role.lower()))
            position = entity.end
        pieces.append(self.sentence.text[position - self.sentence.start : end - self.sentence.start])
        return _normalise("".join(pieces))

    def pairs(self) -> Iterator[_Pair]:
        entities = self.entities
        for i, a in enumerate(entities):
            previous_end = entities[i - 1].end if i else self.sentence.start
            pre = self._text(previous_end, a.start)
            for j in range(i + 1, len(entities)):
                b = entities[j]
                if b.start - a.end > _MAX_BETWEEN:
                    break  # no pattern spans that much: the later names are further still
                next_start = entities[j + 1].start if j + 1 < len(entities) else self.sentence.end
                mid = clean_between(self._text(a.end, b.start))
                yield _Pair(a, b, mid, pre, self._text(b.end, next_start), i, j)

    def after_aside(self, end: int) -> int:
        """``end``, or past the parenthesised aside that starts right there ("X (ci-après « X »)")."""
        aside = PARENTHESES.match(self.sentence.text, end - self.sentence.start)
        return end + (aside.end() - aside.start()) if aside else end

    def _parsed(self) -> Any:
        if self._doc is None and self._parse is not None:
            self._doc = self._parse(self.sentence.text)
        return self._doc

    def finite_verb_between(self, a: Entity, b: Entity) -> bool:
        """Whether the parse has a finite verb between ``a`` and ``b`` (a clause of its own, not an apposition)."""
        doc = self._parsed()
        if doc is None:
            return True  # without a parse, assume the worst: ``a`` governed by a preposition is no subject
        offset = self.sentence.start
        return any(
            a.end - offset <= token.idx < b.start - offset
            and token.pos_ in ("VERB", "AUX")
            and "Fin" in token.morph.get("VerbForm")
            for token in doc
        )

    def verb_after_conjunction(self, b: Entity) -> bool:
        """Whether a verb follows the last conjunction before ``b`` (a second verb phrase: "and operates
        in", or a participle sharing the first one's auxiliary: "is coordinated by X and hosted in")."""
        doc = self._parsed()
        if doc is None:
            return False
        before = [token for token in doc if token.idx < b.start - self.sentence.start]
        conjunction = next((t for t in reversed(before) if t.lower_ in ("and", "y", "et", "e")), None)
        return conjunction is not None and any(
            t.i > conjunction.i and t.pos_ in ("VERB", "AUX") and {"Fin", "Part"} & set(t.morph.get("VerbForm"))
            for t in before
        )

    def connected_through(self, a: Entity, b: Entity, trigger: str) -> bool:
        """Whether the parse joins ``a`` and ``b`` by a path through a word matching ``trigger``."""
        doc = self._parsed()
        if doc is None:
            return False
        offset = self.sentence.start
        span_a = doc.char_span(a.start - offset, a.end - offset, alignment_mode="expand")
        span_b = doc.char_span(b.start - offset, b.end - offset, alignment_mode="expand")
        if span_a is None or span_b is None:
            return False
        path = _path(span_a.root, span_b.root)
        words = re.compile(trigger)
        return any(words.fullmatch(token.lower_) or words.fullmatch(token.lemma_.lower()) for token in path[1:-1])


def _path(x: Any, y: Any) -> list[Any]:
    """Tokens on the tree path from ``x`` to ``y`` (both included)."""
    up_x = [x, *x.ancestors]
    up_y = [y, *y.ancestors]
    common = next((t for t in up_x if t in up_y), None)
    if common is None:
        return [x, y]
    return up_x[: up_x.index(common) + 1] + list(reversed(up_y[: up_y.index(common)]))


def _dates(sentence: Sentence, language: str) -> list[tuple[int, str]]:
    """Dates in the sentence as ``(position, text)``: DATE entities, else dates as written."""
    found = [(e.start, e.text) for e in sentence.entities if e.role == "DATE" and re.search(r"\d", e.text)]
    if not found:
        pattern = DATE.get(language, DATE["en"])
        found = [(sentence.start + m.start(), m.group()) for m in pattern.finditer(sentence.text)]
    return found


# ", which also owns", ", qui détient", ", que opera": the clause is about ``a``, whatever governs it.
_RELATIVE = re.compile(r"^\s*,?\s*(?:which|who|that|qui|que|lequel|laquelle|lesquels|el cual|la cual|quien|quienes)\b")
# Up to the last conjunction after another name, when no name follows it: what comes after is a
# second verb phrase of the same subject.
_CONJOINED = re.compile(r".*⟨\w+⟩[^⟨⟩]*?\s(?:and|y|et|e)\s+(?=[^⟨⟩]*$)", re.DOTALL)
# A conjunction and more words before ``b``: a second predicate, whose subject is not ``a``.
_SECOND_PREDICATE = re.compile(r"^\s*(?:and|et|y)\s+\S")


def _blocked(pair: _Pair, pattern: Pattern) -> bool:
    """Another entity of the kind of ``b`` (or of ``a``) stands between them: not this pair."""
    roles = set(pattern.blocked_by) if pattern.blocked_by is not None else set(pattern.a) | set(pattern.b)
    return any(_PLACEHOLDER.format(role.lower()) in pair.mid for role in roles)


# Kinds one sentence may state of the same pair together: "A delivers its barley to B, with which it
# signed a contract" is a supply and an agreement. Any other first reading of a pair is the only one.
_ALSO: dict[str, frozenset[str]] = {
    "AGREEMENT_WITH": frozenset({"SUPPLIES"}),
    "SUPPLIES": frozenset({"AGREEMENT_WITH"}),
}


def read_sentence(sentence: Sentence, *, language: str, parse: Callable[[str], Any] | None = None) -> list[Finding]:
    """Every relationship the patterns find in ``sentence`` (entity indexes from the document view)."""
    reader = SentenceReader(sentence, language, parse)
    if len(reader.entities) < 2:
        return []
    patterns = patterns_for(language)
    negation = re.compile(NEGATION.get(language, NEGATION["en"]))
    hypothetical = re.compile(HYPOTHETICAL.get(language, HYPOTHETICAL["en"]))
    former = re.compile(FORMER.get(language, FORMER["en"]))
    findings: list[Finding] = []
    for pair in reader.pairs():
        if pair.a.key == pair.b.key:
            continue
        read: set[str] = set()  # kinds already read for the pair
        for pattern in patterns:
            if pair.a.role not in pattern.a or pair.b.role not in pattern.b:
                continue
            if read and not all(pattern.kind in _ALSO.get(kind, ()) for kind in read):
                continue
            current = pair
            groups = pattern.match(pair.mid, pair.pre, pair.post)
            if groups is None and (pattern.subject or pattern.conjoined) and (conjoined := _CONJOINED.match(pair.mid)):
                # "A opened a store in ⟨loc⟩ and operates in B": the second verb's subject is A too.
                current = replace(pair, mid=" " + pair.mid[conjoined.end() :])
                groups = pattern.match(current.mid, current.pre, current.post)
                if groups is not None and not reader.verb_after_conjunction(pair.b):
                    groups = None  # "years of work and cooperation with B": nouns, not a second verb
            if groups is None:
                continue
            if not pattern.far and not pattern.between and _blocked(current, pattern):
                continue
            if _SECOND_PREDICATE.match(current.mid) and not pattern.post:
                continue
            if (
                pattern.subject
                and governed(current.pre)
                and not _RELATIVE.match(current.mid)
                and reader.finite_verb_between(current.a, current.b)
            ):
                continue  # "…de la Administración Pública, ha anunciado…": not the subject of that verb
            if pattern.subject and in_aside(current.pre, current.mid):
                continue  # "A (- part of B's C segment -) recorded revenue from a contract with D": not C
            if pattern.not_after and re.search(pattern.not_after, current.pre):
                continue
            if pattern.far and not reader.connected_through(current.a, current.b, pattern.trigger):
                continue
            clause = " ".join((current.pre[-40:], current.mid, current.post[:40] if pattern.post else ""))
            if negation.search(clause) or hypothetical.search(clause):
                continue
            source, target = (current.b, current.a) if pattern.swap else (current.a, current.b)
            properties = _properties(pattern, groups, clause, former, reader, current)
            for s, t in _with_coordinated(reader, current, source, target, pattern):
                findings.append(
                    Finding(
                        pattern.kind,
                        s.index,
                        t.index,
                        sentence.start,
                        sentence.end,
                        pattern.producer,
                        pattern.confidence,
                        properties,
                    )
                )
            read.add(pattern.kind)  # the first pattern of a kind that reads a pair is the one that holds
    return findings


# The verb of an appointment is no part of the title: "nommée directrice" is a "directrice".
_APPOINTED = re.compile(r"^(?:appointed|named|elected|nommée?s?|désignée?s?|nombrad[oa]s?|designad[oa]s?)\s+")
_EVENT_KINDS = frozenset({"ACQUIRED", "AGREEMENT_WITH", "PARTNER_OF", "SUPPLIES", "ADVISED"})
_DATED_ROLE_PATTERNS = frozenset({"pattern:appointed", "pattern:role-verb", "pattern:joined", "pattern:joined-from"})


def _properties(
    pattern: Pattern, groups: dict[str, str], clause: str, former: re.Pattern[str], reader: SentenceReader, pair: _Pair
) -> dict[str, str | bool]:
    properties: dict[str, str | bool] = {}
    role = _APPOINTED.sub("", (groups.get("role") or pattern.role or "").strip(" ,"))
    if pattern.kind == "ROLE_AT":
        properties["role"] = role
        properties["role_type"] = role_type(role or pattern.producer)
        properties["former"] = bool(groups.get("former")) or bool(former.search(clause))
    elif role:
        properties["detail"] = role
    # A date is a property of an event (an acquisition, an agreement, an appointment), not of a
    # standing fact: "Michael Evans of Acme will visit on April 22" says nothing of when he joined.
    dated = pattern.kind in _EVENT_KINDS or pattern.producer in _DATED_ROLE_PATTERNS
    if dated and reader.dates:
        middle = (pair.a.end + pair.b.start) / 2
        position, text = min(reader.dates, key=lambda d: abs(d[0] - middle))
        properties["date"] = text
    return properties


# A description of the last name of a list, between commas and naming no one, before the next name.
_DESCRIPTION = re.compile(r"^\s*,[^,;⟨⟩]{1,160}(?=,)")


def _with_coordinated(
    reader: SentenceReader, pair: _Pair, source: Entity, target: Entity, pattern: Pattern
) -> Iterator[tuple[Entity, Entity]]:
    """The pair, and the same relation for names listed with ``b`` after it or with ``a`` before it."""
    yield source, target
    entities = reader.entities
    swap = source is pair.b
    # Names after b, joined to it by a comma, "and", "et", "y"...
    last = pair.b
    end = reader.after_aside(last.end)
    for entity in entities[pair.b_index + 1 :]:
        if entity.start < end:
            continue  # named again in the aside after the last name: "X (ci-après « X »)"
        # "la Loire (42) et la Saône"; "Chausson Matériaux, active dans le négoce ..., ainsi que celui de Priba"
        between = _DESCRIPTION.sub("", PARENTHESES.sub("", reader._text(end, entity.start)), count=1)
        if entity.role not in pattern.b or not COORDINATION.fullmatch(between):
            break
        yield (entity, target) if swap else (source, entity)
        last = entity
        end = reader.after_aside(last.end)
    # Names before a, joined to it the same way.
    first = pair.a
    for entity in reversed(entities[: pair.a_index]):
        between = PARENTHESES.sub("", reader._text(entity.end, first.start))
        if entity.role not in pattern.a or not COORDINATION.fullmatch(between):
            break
        yield (source, entity) if swap else (entity, target)
        first = entity
