"""Mentions as one document's reading yields them, and the repairs of model spans across it.

:class:`Mention` is what the entity stage stores; :class:`Found` is a mention with what the
document-level steps need to know about it. Pure.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace

from docflow.core.entity_names import VALUE_LABELS

__all__ = ["Found", "Mention", "join_connected", "widen_partial_names"]


@dataclass(frozen=True)
class Mention:
    """One entity occurrence; ``chunk.text[char_start:char_end] == text``.

    ``source`` is where the span came from: ``"model"`` (the statistical recognizer),
    ``"pattern"`` (docflow's money/legal-form patterns) or ``"vocabulary"`` (the project's
    known names, or a model span whose key is one of them).
    """

    chunk_index: int
    text: str
    label: str
    char_start: int
    char_end: int
    canonical_key: str
    canonical_name: str
    source: str = "model"


@dataclass
class Found:
    mention: Mention
    # Evidence without context: the span is its whole text unit (a heading, a lone line, a table
    # cell), or was widened or found again from a name known elsewhere in the document. It takes
    # no part in the vote.
    no_context: bool
    # For a span joined across a connector ("Bank of" + "America Corp."): the two parts, used
    # instead when the document names the first part on its own elsewhere (see join_connected).
    parts: tuple[Mention, Mention] | None = None


def join_connected(found: list[Found]) -> list[Found]:
    """Keep "Bank of America Corp." whole unless the document names "Bank" on its own elsewhere.

    The same shape is a person before an organisation ("Amara Nwosu of Helios Energy AG",
    read by the model as one ORG): the person is then named alone elsewhere in the document.
    """
    alone = {f.mention.canonical_key for f in found if f.parts is None and not f.no_context}
    out: list[Found] = []
    for f in found:
        if f.parts is not None and f.parts[0].canonical_key in alone:
            out.extend(Found(part, False) for part in f.parts)
        else:
            out.append(f)
    return out


def _is_word_boundary(text: str, start: int, end: int) -> bool:
    return (start == 0 or not text[start - 1].isalnum()) and (end == len(text) or not text[end].isalnum())


def widen_partial_names(found: list[Found], chunk_texts: Mapping[int, str]) -> list[Found]:
    """Widen a span that is part of a name the document names elsewhere ("Nwosu" -> "Amara Nwosu").

    The model sometimes leaves a given name out at a sentence start. A name counts as known
    when it has two words or more and was found in running text at least twice (or comes from
    the vocabulary); a span lying inside an occurrence of a known name in its chunk becomes
    that occurrence, unless the occurrence would overlap another mention. Among several known
    names, the most often found wins, then the longest.
    """
    names = [f.mention for f in found if not f.no_context and f.mention.label not in VALUE_LABELS]
    support = Counter(m.text for m in names)
    first = {m.text: m for m in reversed(names)}  # a known name's identity: its first mention's
    from_vocabulary = {m.text for m in names if m.source == "vocabulary"}
    known = sorted(
        (text for text, n in support.items() if len(text.split()) > 1 and (n >= 2 or text in from_vocabulary)),
        key=lambda text: (-support[text], -len(text), text),
    )
    if not known:
        return found
    spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for f in found:
        spans[f.mention.chunk_index].append((f.mention.char_start, f.mention.char_end))
    out: list[Found] = []
    seen: set[tuple[int, int, int]] = set()
    for f in found:
        m = f.mention
        widened = None
        if m.label not in VALUE_LABELS and m.source != "vocabulary":
            chunk_text = chunk_texts[m.chunk_index]
            for name in known:
                if name == m.text or m.text not in name:
                    continue
                start = chunk_text.find(name, max(0, m.char_end - len(name)))
                while start != -1 and start <= m.char_start:
                    end = start + len(name)
                    if end >= m.char_end and _is_word_boundary(chunk_text, start, end):
                        clashes = any(
                            s < end and e > start and not (start <= s and e <= end) for s, e in spans[m.chunk_index]
                        )
                        if not clashes:
                            widened = (start, end, name)
                        break
                    start = chunk_text.find(name, start + 1)
                if widened:
                    break
        if widened:
            start, end, name = widened
            known_as = first[name]
            m = replace(known_as, chunk_index=m.chunk_index, char_start=start, char_end=end)
            f = Found(m, True)
        if (m.chunk_index, m.char_start, m.char_end) not in seen:
            seen.add((m.chunk_index, m.char_start, m.char_end))
            out.append(f)
    return out
