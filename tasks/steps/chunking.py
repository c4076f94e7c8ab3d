"""Turn extracted elements into overlapping, size-bounded chunks of one canonical text.

The canonical document text is ``"\\n\\n".join`` of the cleaned, non-empty element texts;
every offset a :class:`Chunk` carries points into that string, so a chunk can always be
re-found (and highlighted) in the document it came from.

Guarantees of :func:`chunk_elements` (for valid arguments):

* every character of the document text lies in at least one chunk;
* ``chunk.text == text[chunk.char_start:chunk.char_end]`` and ``len(chunk.text) <= max_chars``;
* chunk indexes are ``0..n-1`` in document order, and ``char_start`` strictly increases;
* ``page_start``/``page_end`` are the lowest/highest page of the elements the chunk touches;
* the same input always gives the same output; no input (or only blank text) gives ``("", [])``.

Pure: no I/O, no framework imports.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from docflow.core.errors import PermanentError

__all__ = [
    "HEADING_KINDS",
    "ELEMENT_SEPARATOR",
    "Chunk",
    "ElementLike",
    "ElementSpan",
    "chunk_elements",
    "clean_text",
    "document_text",
    "element_spans",
]

ELEMENT_SEPARATOR = "\n\n"

# "Header" is deliberately absent: in extractor vocabulary it is a running page header
# ("Confidential - page 3"), and breaking chunks on every page would shred the text.
HEADING_KINDS: frozenset[str] = frozenset({"Title", "Heading"})


class ElementLike(Protocol):
    """Anything shaped like ``tasks.steps.extract.Element``."""

    @property
    def text(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def page(self) -> int: ...


@dataclass(frozen=True)
class Chunk:
    """One window of the document text; offsets are into :func:`document_text`."""

    index: int
    text: str
    page_start: int
    page_end: int
    char_start: int
    char_end: int


# --- cleaning ---------------------------------------------------------------------------

# Line/paragraph breaks from other platforms become "\n" rather than vanishing, so that
# lines are not glued together. Form feed is how pdftotext marks a page break.
_TO_NEWLINE = {ord(c): "\n" for c in "\x0b\x0c\x85\u2028\u2029"}
_SPACE_LIKE = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_TRANSLATE = {
    **{cp: None for cp in [*range(0x20), *range(0x7F, 0xA0)] if chr(cp) not in "\n\t"},
    # Invisible characters that only break word matching downstream.
    **{ord(c): None for c in "\u00ad\u200b\u2060\ufeff"},
    **_TO_NEWLINE,
    **{ord(c): " " for c in _SPACE_LIKE},
}
# A soft hyphen at a line end is a real hyphenation point; keep it visible to the
# de-hyphenation rule before soft hyphens are dropped.
_SOFT_HYPHEN_AT_EOL = re.compile("\u00ad[ \t]*\n")
_SPACE_RUN = re.compile(r" {2,}")
_TRAILING_WS = re.compile(r"[ \t]+(?=\n)")
_BLANK_LINE_RUN = re.compile(r"\n{3,}")
_LINE_HYPHEN = re.compile(r"(?<=[^\W\d_])-\n[ \t]*(?=[^\W\d_])")


def _join_hyphenated(match: re.Match[str]) -> str:
    # Only a lowercase continuation is treated as a word broken by layout; "Franco-\nGerman"
    # keeps its hyphen (the line break becomes nothing either way).
    return "" if match.string[match.end()].islower() else "-"


def clean_text(text: str) -> str:
    """Normalise one element's text.

    Guarantees: NFC; no control characters other than ``\\n`` and ``\\t`` (``\\r``, form
    feed and Unicode line separators become ``\\n``); no runs of spaces (exotic spaces
    become ``" "``); no trailing spaces/tabs on any line; at most one blank line in a row;
    ``"inter-\\nnational"`` becomes ``"international"``; no leading/trailing whitespace;
    idempotent (``clean_text(clean_text(s)) == clean_text(s)``).
    """
    if not isinstance(text, str):
        raise PermanentError(f"element text must be a string, got {type(text).__name__}")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SOFT_HYPHEN_AT_EOL.sub("-\n", text)
    # NFC before the word-level rules, so "a\u0301-\n" is seen as a letter before a hyphen.
    text = unicodedata.normalize("NFC", text.translate(_TRANSLATE))
    text = _SPACE_RUN.sub(" ", text)
    text = _TRAILING_WS.sub("", text)
    text = _LINE_HYPHEN.sub(_join_hyphenated, text)
    text = _BLANK_LINE_RUN.sub("\n\n", text)
    # NFC again: joining a hyphenated word can put two composable characters side by side.
    return unicodedata.normalize("NFC", text).strip()


# --- layout: elements -> canonical text -------------------------------------------------


@dataclass(frozen=True)
class _Span:
    start: int  # content start in the document text
    end: int  # content end (exclusive), separator not included
    page: int
    is_heading: bool
    kind: str


@dataclass(frozen=True)
class ElementSpan:
    """Where one kept element is in the document text (``[start, end)``), its page and its kind."""

    start: int
    end: int
    page: int
    kind: str


def _layout(elements: Iterable[ElementLike]) -> tuple[str, list[_Span]]:
    parts: list[str] = []
    spans: list[_Span] = []
    offset = 0
    for element in elements:
        page = element.page
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise PermanentError(f"element page must be a 1-based integer, got {page!r}")
        cleaned = clean_text(element.text)
        if not cleaned:
            # Empty elements would only add runs of separators that no chunk wants.
            continue
        if parts:
            offset += len(ELEMENT_SEPARATOR)
        parts.append(cleaned)
        spans.append(_Span(offset, offset + len(cleaned), page, element.kind in HEADING_KINDS, element.kind))
        offset += len(cleaned)
    return ELEMENT_SEPARATOR.join(parts), spans


def document_text(elements: Iterable[ElementLike]) -> str:
    """The canonical text all chunk offsets refer to (cleaned, non-empty elements, ``"\\n\\n"``-joined)."""
    return _layout(elements)[0]


def element_spans(elements: Iterable[ElementLike]) -> tuple[str, list[ElementSpan]]:
    """The canonical text (as :func:`document_text`) and each kept element's span, page and kind in it."""
    text, spans = _layout(elements)
    return text, [ElementSpan(s.start, s.end, s.page, s.kind) for s in spans]


# --- boundaries -------------------------------------------------------------------------

# End of a sentence: terminal punctuation, optional closing quotes/brackets, whitespace.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+")
_LINE_START = re.compile(r"\n\s*")
_WORD_START = re.compile(r"(?<=\s)\S")


def _sentence_starts(text: str, lo: int, hi: int) -> list[int]:
    """Positions in ``(lo, hi)`` where a sentence or line plausibly starts."""
    found: set[int] = set()
    for pattern in (_SENTENCE_END, _LINE_START):
        for match in pattern.finditer(text, lo, hi):
            pos = match.end()
            # "e.g. the" is not a sentence break; a lowercase start almost never is.
            if lo < pos < hi and (pattern is _LINE_START or not text[pos].islower()):
                found.add(pos)
    return sorted(found)


def _word_starts(text: str, lo: int, hi: int) -> list[int]:
    return [m.start() for m in _WORD_START.finditer(text, lo, hi) if lo < m.start()]


# --- pieces: the units chunks are packed from -------------------------------------------


@dataclass(frozen=True)
class _Piece:
    start: int  # first character; never whitespace outside pathological whitespace runs
    end: int  # start of the next piece, or end of text: trailing whitespace included
    starts_heading: bool


def _hard_split(text: str, lo: int, hi: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut one word plus its trailing whitespace, ``[lo, hi)``, into ``<= max_chars`` spans.

    Mid-word cuts happen only when the word itself is longer than ``max_chars``.
    """
    content_end = lo + len(text[lo:hi].rstrip())
    if content_end - lo <= max_chars or hi - content_end >= max_chars:
        # The word fits but not with its whitespace (tiny budgets), or the whitespace run is
        # itself huge (hundreds of tabs): the whitespace becomes pieces of its own.
        return [
            *((s, min(s + max_chars, content_end)) for s in range(lo, content_end, max_chars)),
            *((s, min(s + max_chars, hi)) for s in range(content_end, hi, max_chars)),
        ]
    cuts = list(range(lo, content_end, max_chars))
    if hi - cuts[-1] > max_chars:
        # Let the last part start early enough to carry the trailing whitespace, so no
        # piece starts with whitespace.
        cuts.append(hi - max_chars)
    return list(zip(cuts, [*cuts[1:], hi], strict=True))


def _split(text: str, lo: int, hi: int, max_chars: int, level: int) -> list[tuple[int, int]]:
    """Cut ``[lo, hi)`` into ``<= max_chars`` spans at sentence (0), word (1), any (2) boundaries."""
    if hi - lo <= max_chars:
        return [(lo, hi)]
    if level >= 2:
        return _hard_split(text, lo, hi, max_chars)
    cuts = _sentence_starts(text, lo, hi) if level == 0 else _word_starts(text, lo, hi)
    bounds = [lo, *cuts, hi]
    units = list(itertools.pairwise(bounds))
    if level == 0:
        # Sentences stay separate pieces: the packer joins them with neighbouring elements.
        out: list[tuple[int, int]] = []
        for start, end in units:
            out.extend(_split(text, start, end, max_chars, level + 1))
        return out
    # Words are packed greedily, so an over-long sentence becomes few near-full spans.
    out = []
    current = lo
    for start, end in units:
        if end - current <= max_chars:
            continue
        if start > current:
            out.append((current, start))
        if end - start > max_chars:
            out.extend(_split(text, start, end, max_chars, level + 1))
            current = end
        else:
            current = start
    if current < hi:
        out.append((current, hi))
    return out


def _pieces(text: str, spans: Sequence[_Span], max_chars: int) -> list[_Piece]:
    pieces: list[_Piece] = []
    for i, span in enumerate(spans):
        # The separator travels with the element before it, so pieces tile the text.
        end = spans[i + 1].start if i + 1 < len(spans) else span.end
        for j, (start, stop) in enumerate(_split(text, span.start, end, max_chars, 0)):
            pieces.append(_Piece(start, stop, span.is_heading and j == 0))
    return pieces


# --- packing ----------------------------------------------------------------------------


def _overlap_start(text: str, *, chunk_start: int, chunk_end: int, lowest: int, overlap_chars: int) -> int:
    """Where the next chunk starts so it repeats about ``overlap_chars`` of this one.

    Always in ``[lowest, chunk_end]``, at a sentence or word start; ``chunk_end`` (no
    overlap) when nothing suitable fits.
    """
    lo = max(chunk_start + 1, lowest)
    if overlap_chars <= 0 or lo >= chunk_end:
        return chunk_end
    target = chunk_end - overlap_chars
    tolerance = overlap_chars // 2
    sentences = [p for p in _sentence_starts(text, lo - 1, chunk_end) if abs(p - target) <= tolerance]
    if sentences:
        return min(sentences, key=lambda p: (abs(p - target), p))
    words = _word_starts(text, lo - 1, chunk_end)
    within = [p for p in words if p >= target]
    if within:
        return within[0]
    return words[0] if words else chunk_end


def _pages(spans: Sequence[_Span], ends: Sequence[int], start: int, end: int) -> tuple[int, int]:
    first = bisect.bisect_right(ends, start)  # first element ending after the chunk starts
    pages = []
    for i in range(first, len(spans)):
        if spans[i].start >= end:
            break
        pages.append(spans[i].page)
    if not pages:
        # A chunk of pure inter-element whitespace belongs to the element it follows.
        pages = [spans[first - 1].page]
    return min(pages), max(pages)


def chunk_elements(
    elements: Iterable[ElementLike],
    *,
    max_chars: int = 1500,
    overlap_chars: int = 200,
    min_chars: int = 200,
) -> tuple[str, list[Chunk]]:
    """Chunk ``elements``; returns ``(document_text, chunks)``.

    Elements are packed whole while they fit. A heading (``HEADING_KINDS``) starts a new
    chunk, without overlap, once the current chunk has ``min_chars`` characters. An
    element longer than the budget is cut at sentence starts, then word starts, and only
    mid-word for a single word longer than ``max_chars``. Consecutive chunks otherwise
    share about ``overlap_chars`` characters, cut at a sentence (else word) start.
    See the module docstring for the full list of guarantees.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be >= 1")
    if not 0 <= overlap_chars < max_chars:
        raise ValueError("overlap_chars must be >= 0 and < max_chars")
    if min_chars < 0:
        raise ValueError("min_chars must be >= 0")

    text, spans = _layout(elements)
    if not text:
        return "", []
    pieces = _pieces(text, spans, max_chars)

    bounds: list[tuple[int, int]] = []  # (start, end-with-trailing-whitespace)
    start, end = pieces[0].start, pieces[0].end
    for piece in pieces[1:]:
        fits = piece.end - start <= max_chars
        heading_break = piece.starts_heading and len(text[start:end].rstrip()) >= min_chars
        if fits and not heading_break:
            end = piece.end
            continue
        bounds.append((start, end))
        if piece.starts_heading:
            start = end  # a new section does not repeat the previous one
        else:
            start = _overlap_start(
                text,
                chunk_start=start,
                chunk_end=end,
                lowest=piece.end - max_chars,
                overlap_chars=overlap_chars,
            )
        end = piece.end
    bounds.append((start, end))

    ends = [span.end for span in spans]
    chunks: list[Chunk] = []
    for index, (start, end) in enumerate(bounds):
        next_start = bounds[index + 1][0] if index + 1 < len(bounds) else end
        # Trailing whitespace is trimmed only where the next chunk still covers it.
        end = max(start + len(text[start:end].rstrip()), next_start)
        page_start, page_end = _pages(spans, ends, start, end)
        chunks.append(Chunk(index, text[start:end], page_start, page_end, start, end))
    return text, chunks
