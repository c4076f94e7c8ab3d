"""Reading a processed document: its text page by page, with the entities found in it marked.

The text of a page is what extraction produced for that page (elements in reading order). An
entity is marked where its mention's text occurs in that page's text, for the mentions of the
chunks that cover the page — so a page shows its own entities, never another page's. Marking
splits the text into :class:`Segment` s (plain text, or an entity's span with its label), which a
page renders with its own escaping: no markup is ever built from document text here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from docflow.core.db import fetch_all, session_scope
from docflow.core.results import load_chunks

_ELEMENTS_SQL = "SELECT elements_json FROM document_extractions WHERE document_id = %(id)s"
_MENTIONS_SQL = """
SELECT m.canonical_entity_id, m.text, m.label, c.page_start, c.page_end
FROM entity_mentions m JOIN chunks c ON c.document_id = m.document_id AND c.chunk_index = m.chunk_index
WHERE m.document_id = %(id)s
"""
_ENTITIES_SQL = """
SELECT e.id, e.display_name, e.label, count(*) AS mentions
FROM entity_mentions m JOIN canonical_entities e ON e.id = m.canonical_entity_id
WHERE m.document_id = %(id)s
GROUP BY e.id ORDER BY mentions DESC, e.display_name
"""


@dataclass(frozen=True)
class Segment:
    text: str
    entity_id: int | None = None
    label: str | None = None


@dataclass
class PageText:
    number: int
    paragraphs: list[list[Segment]] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # the element kind of each paragraph

    @property
    def entity_count(self) -> int:
        return sum(1 for paragraph in self.paragraphs for s in paragraph if s.entity_id is not None)


def mark(text: str, mentions: list[tuple[int, str, str]]) -> list[Segment]:
    """``text`` split at every occurrence of a mention's text (longest first, never overlapping)."""
    spans: list[tuple[int, int, int, str]] = []
    taken = bytearray(len(text))
    for entity_id, surface, label in sorted(set(mentions), key=lambda m: (-len(m[1]), m[1])):
        if not surface.strip():
            continue
        start = text.find(surface)
        while start != -1:
            end = start + len(surface)
            if not any(taken[start:end]):
                spans.append((start, end, entity_id, label))
                taken[start:end] = b"\x01" * (end - start)
            start = text.find(surface, end)
    segments: list[Segment] = []
    cursor = 0
    for start, end, entity_id, label in sorted(spans):
        if start > cursor:
            segments.append(Segment(text[cursor:start]))
        segments.append(Segment(text[start:end], entity_id, label))
        cursor = end
    if cursor < len(text):
        segments.append(Segment(text[cursor:]))
    return segments


def document_pages(document_id: int) -> list[PageText]:
    """Every page of the document's extracted text, with the page's entities marked."""
    rows = fetch_all(_ELEMENTS_SQL, {"id": document_id})
    if not rows:
        return []
    elements = json.loads(rows[0][0])["elements"]
    by_page: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for entity_id, surface, label, first, last in fetch_all(_MENTIONS_SQL, {"id": document_id}):
        for number in range(first, last + 1):
            by_page[number].append((entity_id, surface, label))
    pages: dict[int, PageText] = {}
    for element in elements:
        page = pages.setdefault(element["page"], PageText(element["page"]))
        page.paragraphs.append(mark(element["text"], by_page.get(element["page"], [])))
        page.kinds.append(element["kind"])
    return [pages[number] for number in sorted(pages)]


def page_texts(document_id: int) -> list[tuple[int, str]]:
    """Each page's extracted text (its elements in reading order, a blank line between them)."""
    rows = fetch_all(_ELEMENTS_SQL, {"id": document_id})
    if not rows:
        return []
    by_page: dict[int, list[str]] = defaultdict(list)
    for element in json.loads(rows[0][0])["elements"]:
        by_page[element["page"]].append(element["text"])
    return [(number, "\n\n".join(by_page[number])) for number in sorted(by_page)]


@dataclass(frozen=True)
class ChunkText:
    index: int
    text: str
    page_start: int
    page_end: int
    char_start: int
    char_end: int


def document_chunks(document_id: int) -> list[ChunkText]:
    """The document's chunks in order, with the pages and the characters of its text they span."""
    with session_scope() as session:
        return [ChunkText(*row) for row in load_chunks(session, document_id=document_id)]


def document_entities(document_id: int) -> list[dict[str, Any]]:
    """The document's entities, most mentioned first."""
    return [
        {"entity_id": i, "name": name, "label": label, "mentions": int(n)}
        for i, name, label, n in fetch_all(_ENTITIES_SQL, {"id": document_id})
    ]


@dataclass(frozen=True)
class StoredOriginal:
    object_key: str
    sha256: str
    file_type: str | None


_ORIGINAL_SQL = "SELECT object_key, sha256, file_type FROM source_documents WHERE id = %(id)s"


def stored_original(document_id: int) -> StoredOriginal | None:
    """Where the document's original is stored (to render its pages), or None: no such document, or
    it was never stored."""
    rows = fetch_all(_ORIGINAL_SQL, {"id": document_id})
    if not rows or not rows[0][0]:
        return None
    object_key, sha256, file_type = rows[0]
    return StoredOriginal(object_key, sha256, file_type)
