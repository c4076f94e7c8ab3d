"""One document as the relation rules see it: its text, its blocks, its entities and its sentences. Pure.

Everything is in the coordinates of the canonical document text (the one chunk offsets refer to):
mentions arrive relative to their chunk and are moved there; a name seen in two overlapping chunks
is one entity occurrence.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from tasks.steps.chunking import ElementLike, element_spans
from tasks.steps.relations.columns import column_roles
from tasks.steps.relations.names import every_occurrence, glued_titles, organ_names, titled_aliases
from tasks.steps.relations.roles import cut_name_parts, occurrence_role, role_title_parts

__all__ = ["Block", "DocumentView", "Entity", "MentionLike", "PositionedChunk", "Sentence", "build_view"]

# docflow's entity labels, grouped by what they can be in a relationship. ``AMB`` is a location
# label on a name that may well be an organisation (the French and Spanish models label many
# companies LOC): it can be either end where an organisation or a place is expected.
ROLE_OF_LABEL = {
    "PERSON": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "AMB",
    "FAC": "FAC",
    "DATE": "DATE",
}


class MentionLike(Protocol):
    @property
    def chunk_index(self) -> int: ...
    @property
    def char_start(self) -> int: ...
    @property
    def char_end(self) -> int: ...
    @property
    def label(self) -> str: ...
    @property
    def canonical_key(self) -> str: ...
    @property
    def text(self) -> str: ...


class PositionedChunk(Protocol):
    @property
    def index(self) -> int: ...
    @property
    def char_start(self) -> int: ...
    @property
    def char_end(self) -> int: ...


@dataclass(frozen=True)
class Entity:
    """One occurrence of a named entity, in document coordinates."""

    index: int
    start: int
    end: int
    text: str
    label: str  # docflow's label
    role: str  # PER, ORG, LOC, AMB, FAC, DATE, GENERIC or PART (see ROLE_OF_LABEL and roles.occurrence_role)
    key: str  # canonical key

    def at(self, start: int, end: int, text: str) -> Entity:
        """The same entity at another place of the document, written ``text`` there."""
        return replace(self, start=start, end=end, text=text)


@dataclass(frozen=True)
class Block:
    """One extracted element (a paragraph, a heading, a table, a message header)."""

    start: int
    end: int
    page: int
    kind: str
    text: str


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str
    block: int  # index of its block
    entities: tuple[Entity, ...]


@dataclass
class DocumentView:
    text: str
    blocks: list[Block]
    entities: list[Entity]
    chunks: list[tuple[int, int, int]]  # (index, start, end), by start

    def entities_in(self, start: int, end: int) -> list[Entity]:
        """The entities wholly inside ``[start, end)``, in order."""
        first = bisect.bisect_left([e.start for e in self.entities], start)
        out = []
        for entity in self.entities[first:]:
            if entity.start >= end:
                break
            if entity.end <= end:
                out.append(entity)
        return out

    def page_at(self, offset: int) -> int:
        starts = [b.start for b in self.blocks]
        position = max(0, bisect.bisect_right(starts, offset) - 1)
        return self.blocks[position].page if self.blocks else 1

    def chunk_at(self, start: int, end: int) -> int:
        """The first chunk holding the whole span, else the one holding its start."""
        holding = [index for index, s, e in self.chunks if s <= start and end <= e]
        if holding:
            return holding[0]
        starting = [index for index, s, e in self.chunks if s <= start < e]
        return starting[0] if starting else (self.chunks[0][0] if self.chunks else 0)

    def sentences(self, *, skip_kinds: frozenset[str] = frozenset()) -> Iterator[Sentence]:
        for number, block in enumerate(self.blocks):
            if block.kind in skip_kinds:
                continue
            entities = self.entities_in(block.start, block.end)
            for start, end in _sentence_spans(block, entities):
                inside = tuple(e for e in entities if start <= e.start and e.end <= end)
                yield Sentence(start, end, self.text[start:end], number, inside)


def build_view(
    *, elements: Sequence[ElementLike], chunks: Sequence[PositionedChunk], mentions: Sequence[MentionLike]
) -> DocumentView:
    """The document text and blocks from ``elements``, ``mentions`` moved to document offsets.

    Mentions of labels no relationship uses (money, nationalities, ...) are left out; a span seen
    in several overlapping chunks is kept once; a name recognised somewhere stands for its entity
    wherever its words appear (:func:`tasks.steps.relations.names.every_occurrence`).
    """
    text, spans = element_spans(elements)
    blocks = [Block(s.start, s.end, s.page, s.kind, text[s.start : s.end]) for s in spans]
    offsets = {c.index: c.char_start for c in chunks}
    seen: dict[tuple[int, int], Entity] = {}
    for m in mentions:
        role = ROLE_OF_LABEL.get(m.label)
        if role is None or m.chunk_index not in offsets:
            continue
        start = offsets[m.chunk_index] + m.char_start
        end = offsets[m.chunk_index] + m.char_end
        if (start, end) not in seen and text[start:end] == m.text:
            seen[(start, end)] = Entity(0, start, end, m.text, m.label, role, m.canonical_key)
    seen = every_occurrence(text, organ_names(seen))
    ordered = sorted(seen.values(), key=lambda e: (e.start, -e.end))
    entities: list[Entity] = []
    for entity in ordered:
        if entities and entity.start < entities[-1].end:
            continue  # nested in the previous one (a vocabulary name inside a model span)
        previous = (entities[-1].end, entities[-1].role) if entities else None
        role = occurrence_role(text, start=entity.start, end=entity.end, role=entity.role, previous=previous)
        entities.append(Entity(len(entities), entity.start, entity.end, entity.text, entity.label, role, entity.key))
    occurrences = [(e.start, e.end, e.role) for e in entities]
    for position in role_title_parts(text, occurrences):
        entities[position] = replace(entities[position], role="GENERIC")  # read as the words of the title
    for position in cut_name_parts(text, occurrences):
        entities[position] = replace(entities[position], role="PART")
    for position, alias in titled_aliases(entities).items():
        entities[position] = replace(entities[position], key=entities[alias].key, label=entities[alias].label)
    for position, (alias, start, end) in glued_titles(entities).items():
        named = entities[alias]
        entities[position] = replace(named, index=position, start=start, end=end, text=text[start:end])
    for block in blocks:
        if block.kind == "Table":
            inside = [(e.index, e.start, e.end, e.role) for e in entities if block.start <= e.start < block.end]
            for index, role in column_roles(block.text, block.start, inside).items():
                entities[index] = replace(entities[index], role=role)
    return DocumentView(
        text=text,
        blocks=blocks,
        entities=entities,
        chunks=sorted(((c.index, c.char_start, c.char_end) for c in chunks), key=lambda c: c[1]),
    )


# --- sentences -------------------------------------------------------------------------------------

# A sentence ends at terminal punctuation (and closing quotes/brackets) followed by a space and a
# capital, a digit or an opening quote; and at every line break inside a block (address lines,
# table rows, header fields are units of their own).
_END = re.compile(
    r"[.!?…][\"'”’»)\]]*\s+(?=[\"“«¿¡(]?[A-ZÀ-ÖØ-Þ0-9])|\n"
    # a dateline: "Paris, le 2 octobre 2024 – ", "CHICAGO, September 9, 2024 — "
    r"|(?<=\d{4})\s*[–—-]\s+(?=[A-ZÀ-ÖØ-Þ])"
)
# Words whose full stop is not a sentence end: titles, legal forms, initials.
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "sr",
        "sra",
        "srta",
        "dña",
        "dª",
        "mme",
        "mlle",
        "m",
        "me",
        "mº",
        "no",
        "nº",
        "n°",
        "inc",
        "ltd",
        "co",
        "corp",
        "jr",
        "av",
        "avda",
        "art",
        "arts",
        "e.g",
        "i.e",
        "etc",
        "vs",
        "approx",
        "dept",
        "est",
        "fig",
        "p",
        "pp",
        "vol",
        "ca",
        "cf",
        "s.a",
        "s.l",
        "s.a.s",
        "s.a.u",
        "s.l.u",
        "u.s",
        "u.k",
        "n.v",
        "b.v",
    ]
)


def _sentence_spans(block: Block, entities: Sequence[Entity]) -> Iterator[tuple[int, int]]:
    text = block.text
    inside = [(e.start - block.start, e.end - block.start) for e in entities]
    start = 0
    for match in _END.finditer(text):
        cut = match.end()
        if match.group() != "\n":
            word = re.search(r"([\w.]+)[.!?…]?[\"'”’»)\]]*\s*$", text[start : match.start() + 1])
            before = (word.group(1) if word else "").rstrip(".").casefold()
            doubled = match.start() > 0 and text[match.start() - 1] == "."  # "Inc.." ends a sentence
            if not doubled and (before in _ABBREVIATIONS or (len(before) == 1 and before.isalpha())):
                continue
        if any(s < cut - 1 < e for s, e in inside):
            continue  # never inside a name
        yield from _trimmed(block, start, cut)
        start = cut
    yield from _trimmed(block, start, len(text))


def _trimmed(block: Block, start: int, end: int) -> Iterator[tuple[int, int]]:
    piece = block.text[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        yield block.start + start + lead, block.start + start + lead + len(stripped)
