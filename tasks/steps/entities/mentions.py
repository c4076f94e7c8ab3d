"""Entity mentions in chunks: model spans, vocabulary overrides, one label per name.

:func:`extract_mentions` runs, for each paragraph of each chunk, the model (with its domain
patterns), then the project's vocabulary (its spans replace the model spans they overlap),
then a few document-level span repairs and a per-document label vote (:func:`vote_labels`)
so that a name is never PERSON in one chunk and ORG in the next.

Chunks overlap, so a mention inside an overlap is reported once per chunk that holds it;
offsets are always relative to the chunk's own text.

Pure apart from loading the spaCy model: no I/O, no framework imports.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from docflow.core.entity_names import VALUE_LABELS, canonical_key, canonical_name, is_meaningful
from docflow.core.vocabulary import VocabularyEntry
from tasks.steps.entities.model import PATTERN_ID, docflow_label, load_nlp
from tasks.steps.entities.vocabulary import VocabularyRuler, vocabulary_ruler

__all__ = ["PRIOR_WEIGHT", "ChunkLike", "Mention", "extract_mentions", "mention_weight", "vote_labels"]


class ChunkLike(Protocol):
    @property
    def index(self) -> int: ...

    @property
    def text(self) -> str: ...


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


# --- the label vote ---------------------------------------------------------------------

# What one mention's label is worth in the vote. The small English model falls back on ORG
# (and NORP) for capitalised names it does not know, and rarely errs the other way. Measured
# on the bench corpus (200 documents, seed 7): 11% of people's mentions and 2.3% of places'
# come out ORG and 1.6% of people's NORP, but only 0.2% of organisations' come out PERSON
# and none GPE. So a PERSON/GPE/LOC/FAC reading is strong evidence and a model ORG/NORP/
# PRODUCT/EVENT/LAW reading weak: 0.25 (the likelihood ratio suggests ~0.36; of 0.5, 0.35
# and 0.25, 0.25 had the best worst case over shuffled document orders). An ORG from a
# legal-form pattern ("... Ltd.") is strong again, and a vocabulary match decides. The cost:
# an organisation without a legal form that the model now and then calls PERSON can lose
# its vote ("Crestview Hospital" became PERSON in 7-24 documents in 3 of 20 orders tried).
_SPECIFIC_LABELS = frozenset({"PERSON", "GPE", "LOC", "FAC"})
_FALLBACK_WEIGHT = 0.25
_VOCABULARY_WEIGHT = 1000.0
# A project prior adds at most this many mentions' worth to a document's own votes, spread
# over its labels in proportion to their counts, each weighted like a model mention of that
# label. The prior is built from earlier documents' voted labels, so it feeds on itself:
# uncapped and unweighted, whatever the first documents decided stuck (recall 93.3%-99.8%
# over 8 orders of the same 200 documents); as here, recall stays within 98.9%-99.8% over
# 10 orders of each of two 200-document corpora.
PRIOR_WEIGHT = 3.0
# Ties go to the first label here; labels not listed sort after, alphabetically.
_TIE_ORDER = ("ORG", "PERSON", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "LAW")


def _label_weight(label: str) -> float:
    return 1.0 if label in _SPECIFIC_LABELS else _FALLBACK_WEIGHT


def mention_weight(mention: Mention) -> float:
    """What ``mention``'s label counts for in :func:`vote_labels` (see the comment above)."""
    if mention.source == "vocabulary":
        return _VOCABULARY_WEIGHT
    if mention.source == "pattern":
        return 1.0
    return _label_weight(mention.label)


def _tie_rank(label: str) -> tuple[int, str]:
    return (_TIE_ORDER.index(label) if label in _TIE_ORDER else len(_TIE_ORDER), label)


def _winners(
    mentions: Sequence[Mention], weights: Sequence[float], prior: Mapping[str, Counter[str]] | None
) -> dict[str, str]:
    tallies: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for mention, weight in zip(mentions, weights, strict=True):
        if mention.label not in VALUE_LABELS:
            tallies[mention.canonical_key][mention.label] += weight
    for key, tally in tallies.items():
        counts = prior.get(key) if prior is not None else None
        seen = {label: n for label, n in (counts or {}).items() if label not in VALUE_LABELS and n > 0}
        total = sum(seen.values())
        scale = min(1.0, PRIOR_WEIGHT / total) if total else 0.0
        for label, n in seen.items():
            tally[label] += n * scale * _label_weight(label)
    return {
        key: min(tally, key=lambda label: (-tally[label], _tie_rank(label)))  # most weight, then tie order
        for key, tally in tallies.items()
    }


def _relabel(mentions: Sequence[Mention], winners: Mapping[str, str]) -> list[Mention]:
    out = []
    for mention in mentions:
        label = winners.get(mention.canonical_key, mention.label)
        keep = mention.label in VALUE_LABELS or label == mention.label
        out.append(mention if keep else replace(mention, label=label))
    return out


def vote_labels(mentions: Iterable[Mention], *, prior: Mapping[str, Counter[str]] | None = None) -> list[Mention]:
    """The same mentions in the same order, every name's mentions under one label.

    For each canonical key, the label with the most weight wins: each mention adds
    :func:`mention_weight`, and ``prior`` (canonical key -> label counts already seen in the
    project, e.g. stored mentions per label) adds at most :data:`PRIOR_WEIGHT` mentions' worth,
    in proportion to its counts, weighted like model mentions of those labels. Ties go to
    ORG > PERSON > GPE > LOC > FAC > NORP > PRODUCT > EVENT > LAW. DATE and MONEY mentions are
    values and keep their label. Pure.
    """
    mentions = list(mentions)
    return _relabel(mentions, _winners(mentions, [mention_weight(m) for m in mentions], prior))


# --- extraction -------------------------------------------------------------------------

# A blank line ends a paragraph (chunk texts join elements with "\n\n"). The model reads one
# paragraph at a time: across a break it glued headings onto names ("Warehouse Inspection
# \n\nElena Petrova" as one ORG) and read a heading as the start of the next sentence.
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")


def _paragraphs(text: str) -> Iterator[tuple[int, str]]:
    """``(offset, paragraph)`` for each paragraph of ``text`` holding more than whitespace."""
    start = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        if text[start : match.start()].strip():
            yield start, text[start : match.start()]
        start = match.end()
    if text[start:].strip():
        yield start, text[start:]


def _bare(text: str) -> str:
    return canonical_name(text)


@dataclass
class _Found:
    mention: Mention
    # Evidence without context: the span is its whole paragraph (a heading, a lone line), or
    # was widened to a name known from elsewhere in the document. It takes no part in the vote.
    no_context: bool
    # For a span joined across a connector ("Bank of" + "America Corp."): the two parts, used
    # instead when the document names the first part on its own elsewhere (see _join_connected).
    parts: tuple[Mention, Mention] | None = None


def _trim_end(span: Any) -> Any:
    """The span without lowercase function words at its end ("Amara Nwosu of" -> "Amara Nwosu")."""
    end = span.end
    while end > span.start and _is_connector(span.doc[end - 1]):
        end -= 1
    return span.doc[span.start : end]


def _is_connector(token: Any) -> bool:
    return bool(token.is_stop and token.is_lower)


def _mention(
    span: Any, label: str, source: str, chunk_index: int, offset: int, vocabulary: VocabularyRuler | None
) -> Mention | None:
    entry_key = span.id_ if source == "vocabulary" else ""
    if label not in VALUE_LABELS and source != "vocabulary":
        span = _trim_end(span)
    text = span.text
    key = canonical_key(text)
    if not text or not is_meaningful(key, label):
        return None
    name = canonical_name(text)
    entry = vocabulary.entry_for_key(entry_key or key) if vocabulary and label not in VALUE_LABELS else None
    if entry is not None:
        key, name, label, source = entry.key, entry.display_name, entry.label, "vocabulary"
    start = offset + span.start_char
    return Mention(chunk_index, text, label, start, start + len(text), key, name, source)


def _mentions_in(
    doc: Any, chunk_index: int, offset: int, paragraph: str, vocabulary: VocabularyRuler | None
) -> Iterator[_Found]:
    bare = _bare(paragraph)
    ents: list[tuple[Any, str]] = [(ent, label) for ent in doc.ents if (label := docflow_label(ent.label_)) is not None]
    skip = False
    for i, (ent, label) in enumerate(ents):
        if skip:
            skip = False
            continue
        following, following_label = ents[i + 1] if i + 1 < len(ents) else (None, None)
        source = "pattern" if ent.id_ == PATTERN_ID else "vocabulary" if ent.id_ else "model"
        parts = None
        if (
            following is not None
            and following.id_ == PATTERN_ID
            and following_label == "ORG"
            and source == "model"
            and following.start == ent.end
            and _is_connector(ent[-1])
        ):
            # The legal-form pattern ran before the model and cut "Bank of America Corp." into
            # "Bank of" + "America Corp.": the model's span ends in a connector right before it.
            first = _mention(ent, label, source, chunk_index, offset, vocabulary)
            second = _mention(following, "ORG", "pattern", chunk_index, offset, vocabulary)
            parts = (first, second) if first and second else None
            ent, label, source, skip = doc[ent.start : following.end], "ORG", "pattern", True
        mention = _mention(ent, label, source, chunk_index, offset, vocabulary)
        if mention is None:
            continue
        isolated = mention.source != "vocabulary" and mention.label not in VALUE_LABELS and _bare(mention.text) == bare
        yield _Found(mention, isolated, parts)


def _join_connected(found: list[_Found]) -> list[_Found]:
    """Keep "Bank of America Corp." whole unless the document names "Bank" on its own elsewhere.

    The same shape is a person before an organisation ("Amara Nwosu of Helios Energy AG",
    read by the model as one ORG): the person is then named alone elsewhere in the document.
    """
    alone = {f.mention.canonical_key for f in found if f.parts is None and not f.no_context}
    out: list[_Found] = []
    for f in found:
        if f.parts is not None and f.parts[0].canonical_key in alone:
            out.extend(_Found(part, False) for part in f.parts)
        else:
            out.append(f)
    return out


def _is_word_boundary(text: str, start: int, end: int) -> bool:
    return (start == 0 or not text[start - 1].isalnum()) and (end == len(text) or not text[end].isalnum())


def _widen_partial_names(found: list[_Found], chunk_texts: Mapping[int, str]) -> list[_Found]:
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
    out: list[_Found] = []
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
            f = _Found(m, True)
        if (m.chunk_index, m.char_start, m.char_end) not in seen:
            seen.add((m.chunk_index, m.char_start, m.char_end))
            out.append(f)
    return out


def _lone_person(mention: Mention) -> bool:
    """A line that is a person's full name and nothing else: a signature, a name on a card."""
    return mention.source == "model" and mention.label == "PERSON" and len(mention.text.split()) >= 2


def extract_mentions(
    chunks: Iterable[ChunkLike],
    *,
    nlp: Any = None,
    vocabulary: Sequence[VocabularyEntry] | None = None,
    prior: Mapping[str, Counter[str]] | None = None,
    prior_lookup: Callable[[set[str]], Mapping[str, Counter[str]]] | None = None,
    batch_size: int = 64,
) -> list[Mention]:
    """Entity mentions in ``chunks`` (one document's), in chunk order then text order.

    Steps, each measured on the bench corpus (bench/entity_quality.py):

    1. the model (with docflow's money/legal-form patterns) reads each paragraph of each chunk
       on its own; labels are mapped to docflow's (PER -> PERSON; MISC and labels outside
       ``KEPT_LABELS`` dropped); lowercase function words ending a name span are trimmed
       ("Amara Nwosu of" -> "Amara Nwosu");
    2. ``vocabulary`` spans replace the model spans they overlap, and a span whose key is a
       vocabulary name or alias takes its entry's key, display name and label;
    3. document-level repairs: a legal-form ORG cut after a connector is joined back
       ("Bank of" + "America Corp.") unless the first part is named alone elsewhere; a span
       inside an occurrence of a longer name found at least twice is widened to it ("Nwosu"
       -> "Amara Nwosu"); a name that is a whole paragraph on its own (a heading, a lone
       line) is kept only if the same key is found in the document's running text, or it is
       a full name the model reads as a person (a signature);
    4. :func:`vote_labels` with ``prior`` gives every key one label (headings and widened
       spans, read without context, take the result but do not vote).

    Mentions whose key is empty, or has no letter unless it is a DATE/MONEY, are dropped.
    ``prior`` is only asked about the document's own keys (``key in prior``,
    ``prior.get(key)``); ``prior_lookup``, instead of ``prior``, is called once with those keys
    and returns the prior for them (one query of the project's store per document).
    ``nlp`` defaults to :func:`load_nlp`; any pipeline that sets ``doc.ents`` works.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    chunks = list(chunks)
    chunk_texts = {chunk.index: chunk.text for chunk in chunks}
    pieces = [(chunk.index, offset, text) for chunk in chunks for offset, text in _paragraphs(chunk.text)]
    if not pieces:
        return []
    nlp = load_nlp() if nlp is None else nlp
    ruler = vocabulary_ruler(vocabulary, nlp=nlp) if vocabulary else None
    found: list[_Found] = []
    docs = nlp.pipe((text for _, _, text in pieces), batch_size=batch_size)
    for (chunk_index, offset, text), doc in zip(pieces, docs, strict=True):
        if ruler is not None:
            ruler.apply(doc)
        found.extend(_mentions_in(doc, chunk_index, offset, text, ruler))

    found = _widen_partial_names(_join_connected(found), chunk_texts)
    if prior_lookup is not None and found:
        prior = prior_lookup({f.mention.canonical_key for f in found})
    # Which names a document has depends on the document alone (and the vocabulary), never on
    # what the project held when it ran: the prior only tips labels, so a re-run or a
    # re-delivery stores the same mentions whatever order the project was processed in.
    # (Keeping headings the prior knew added nothing on the bench corpus: 99.8%/98.9% either way.)
    in_context = {f.mention.canonical_key for f in found if not f.no_context}
    kept = [f for f in found if not f.no_context or f.mention.canonical_key in in_context or _lone_person(f.mention)]
    mentions = [f.mention for f in kept]
    weights = [0.0 if f.no_context else mention_weight(f.mention) for f in kept]
    return _relabel(mentions, _winners(mentions, weights, prior))
