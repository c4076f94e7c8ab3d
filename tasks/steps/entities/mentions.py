"""Entity mentions in chunks: model spans cut to the names they hold, vocabulary overrides,
one entity per real thing within the document, one label per name.

:func:`extract_mentions` reads each text unit of each chunk (:mod:`.units`: paragraphs, table
cells, lines in capitals read from a case-restored copy) with the model and its domain patterns,
then the project's vocabulary (its spans replace the model spans they overlap); cuts each span to
the name(s) it holds and drops what is no name (:mod:`.names`); repairs spans across the document
(:mod:`.spans`); resolves the document's names to one entity each (:mod:`.resolution`); and votes
one label per entity (:func:`vote_labels`), so that a name is never PERSON in one chunk and ORG
in the next.

Chunks overlap, so a mention inside an overlap is reported once per chunk that holds it;
offsets are always relative to the chunk's own text.

Pure apart from loading the spaCy model: no I/O, no framework imports.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from docflow.core.entity_names import VALUE_LABELS, canonical_key, canonical_name, is_meaningful
from docflow.core.vocabulary import VocabularyEntry
from tasks.steps.entities import resolution
from tasks.steps.entities.model import PATTERN_ID, docflow_label, load_nlp
from tasks.steps.entities.names import (
    follows_rank,
    is_acronym_person,
    is_common_words,
    is_plausible_name,
    name_spans,
    trim_text,
)
from tasks.steps.entities.reading import ChunkLike, ReadDocument, read_documents
from tasks.steps.entities.references import (
    is_cited_author,
    is_cited_title,
    is_inverted_person,
    is_journal,
    with_reference_authors,
)
from tasks.steps.entities.resolution import Known
from tasks.steps.entities.spans import Found, Mention, join_connected, widen_partial_names
from tasks.steps.entities.units import TextUnit
from tasks.steps.entities.vocabulary import VocabularyRuler, vocabulary_ruler

__all__ = ["PRIOR_WEIGHT", "ChunkLike", "Mention", "extract_mentions", "mention_weight", "vote_labels"]


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


def _is_connector(token: Any) -> bool:
    return bool(token.is_stop and token.is_lower)


def _identity(
    text: str, label: str, source: str, entry_key: str, vocabulary: VocabularyRuler | None
) -> tuple[str, str, str, str] | None:
    """``(key, display name, label, source)`` of a surface text, or None when it names nothing."""
    key = canonical_key(text)
    if not text or not is_meaningful(key, label):
        return None
    entry = vocabulary.entry_for_key(entry_key or key) if vocabulary and label not in VALUE_LABELS else None
    if entry is not None:
        return entry.key, entry.display_name, entry.label, "vocabulary"
    if source != "vocabulary" and not is_plausible_name(text, label):
        return None
    return key, canonical_name(text), label, source


# Labels a cited work's title is mistaken for (a person or a place named in a title is still one).
_WORK_LABELS = frozenset({"ORG", "PRODUCT", "EVENT", "LAW"})


def _mentions_of(
    span: Any, label: str, source: str, unit: TextUnit, vocabulary: VocabularyRuler | None, evidence: Mapping[str, str]
) -> list[Mention]:
    """The mention(s) a model, pattern or vocabulary span gives: values and vocabulary spans as
    they are, names cut to what they hold (:func:`.names.name_spans`); surface text always from
    the unit's original text (a line in capitals stays in capitals)."""
    if label in VALUE_LABELS or source == "vocabulary":
        pieces = [span]
    else:
        pieces = [span[a:b] for a, b in name_spans(span, label)]
    out = []
    for piece in pieces:
        text = unit.text[piece.start_char : piece.end_char]
        kind = label
        if label not in VALUE_LABELS and source != "vocabulary":
            text = trim_text(text, label)
            if source == "model" and is_common_words(text, evidence):
                continue  # words the document writes in lower case: a heading, a label, a first word
            following = unit.text[piece.start_char + len(text) :]
            if label in _WORK_LABELS and is_cited_title(unit.text[: piece.start_char]):
                continue  # "(1996). The Origins of Agriculture in Europe": a cited work's title
            if follows_rank(unit.text[: piece.start_char]):
                continue  # "the tribe Oxyurini", "the genus Anas": living things, not a name
            if is_inverted_person(text):
                kind = "PERSON"  # "Foster, Richard" in a bibliography
            elif label != "PERSON" and len(text.split()) <= 2 and is_cited_author(following):
                kind = "PERSON"  # "Semba et al., 2013", "Hancks and Kazazian, 2016"
            elif label == "PERSON" and is_journal(following):
                kind = "ORG"  # "Filaria J 2007 6 12": a journal, abbreviated
            if kind == "PERSON" and is_acronym_person(text, restored=unit.restored):
                continue  # "user profile JOE", "95% CI": an id or an acronym, not a person
        identity = _identity(text, kind, source, span.id_ if source == "vocabulary" else "", vocabulary)
        if identity is not None:
            start = unit.offset + piece.start_char
            out.append(
                Mention(
                    unit.chunk_index, text, identity[2], start, start + len(text), identity[0], identity[1], identity[3]
                )
            )
    return out


def _mentions_in(
    doc: Any, unit: TextUnit, vocabulary: VocabularyRuler | None, evidence: Mapping[str, str]
) -> Iterator[Found]:
    bare = canonical_name(unit.text)
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
            first = _mentions_of(ent, label, source, unit, vocabulary, evidence)
            second = _mentions_of(following, "ORG", "pattern", unit, vocabulary, evidence)
            parts = (first[-1], second[0]) if first and second else None
            ent, label, source, skip = doc[ent.start : following.end], "ORG", "pattern", True
        for mention in _mentions_of(ent, label, source, unit, vocabulary, evidence):
            # A name alone in its unit, or anywhere in a table cell (headers, totals, line items),
            # has no sentence around it: it needs the document's running text to vouch for it.
            isolated = (
                mention.source != "vocabulary"
                and mention.label not in VALUE_LABELS
                and (canonical_name(mention.text) == bare or (unit.in_table and mention.source == "model"))
            )
            yield Found(mention, isolated, parts)


def _resolve(found: list[Found], units: Sequence[TextUnit]) -> list[Found]:
    """One entity per real thing in the document (:mod:`.resolution`), applied to ``found``."""
    names = [f for f in found if resolution.is_name_label(f.mention.label) and f.mention.source != "vocabulary"]
    ending_at = {
        (f.mention.chunk_index, f.mention.char_end): Known(
            f.mention.canonical_key, canonical_name(f.mention.text), f.mention.label
        )
        for f in names
    }
    aliases, alias_surfaces, terms = resolution.defined_forms(units, ending_at)
    found = [f for f in found if f.mention.source == "vocabulary" or f.mention.canonical_key not in terms]
    people = {
        Known(f.mention.canonical_key, f.mention.canonical_name, "PERSON")
        for f in found
        if f.mention.label == "PERSON" and f.mention.source != "vocabulary" and len(f.mention.text.split()) > 1
    }
    partial = resolution.join_partial_names(people)
    out: list[Found] = []
    for f in found:
        m = f.mention
        if m.source != "vocabulary" and resolution.is_name_label(m.label):
            if m.canonical_key in aliases:
                m = resolution.with_identity(m, aliases[m.canonical_key])
            elif len(m.text.split()) == 1 and m.canonical_key in partial and resolution.partial_label_fits(m.label):
                m = resolution.with_identity(m, partial[m.canonical_key])
        out.append(Found(m, f.no_context, f.parts) if m is not f.mention else f)
    # Further occurrences of names known in running text, their surnames and defined short forms.
    surfaces: dict[str, Known] = dict(alias_surfaces)
    for f in out:
        m = f.mention
        if not f.no_context and resolution.is_name_label(m.label) and m.text[:1].isupper() and len(m.text) > 1:
            surfaces.setdefault(m.text, Known(m.canonical_key, m.canonical_name, m.label))
    for word, known in partial.items():
        surface = next((w for w in known.name.split() if canonical_key(w) == word), None)
        if surface and surface[:1].isupper():
            surfaces.setdefault(surface, known)
    taken: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for f in out:
        taken[f.mention.chunk_index].append((f.mention.char_start, f.mention.char_end))
    for chunk_index, start, end, known in resolution.find_occurrences(units, surfaces, taken):
        text = _chunk_text(units, chunk_index, start, end)
        out.append(Found(Mention(chunk_index, text, known.label, start, end, known.key, known.name, "model"), True))
    out.sort(key=lambda f: (f.mention.chunk_index, f.mention.char_start, f.mention.char_end))
    return out


def _chunk_text(units: Sequence[TextUnit], chunk_index: int, start: int, end: int) -> str:
    for unit in units:
        if unit.chunk_index == chunk_index and unit.offset <= start and end <= unit.offset + len(unit.text):
            return unit.text[start - unit.offset : end - unit.offset]
    raise ValueError("an occurrence outside every unit")  # find_occurrences only matches inside units


def _lone_person(mention: Mention) -> bool:
    """A line that is a person's full name and nothing else: a signature, a name on a card."""
    return mention.source == "model" and mention.label == "PERSON" and len(mention.text.split()) >= 2


def _with_display_names(mentions: list[Mention]) -> list[Mention]:
    best = resolution.display_names((m.canonical_key, m.text) for m in mentions if m.source != "vocabulary")
    return [
        m
        if m.source == "vocabulary" or best.get(m.canonical_key, m.canonical_name) == m.canonical_name
        else replace(m, canonical_name=best[m.canonical_key])
        for m in mentions
    ]


def extract_mentions(
    chunks: Iterable[ChunkLike],
    *,
    nlp: Any = None,
    vocabulary: Sequence[VocabularyEntry] | None = None,
    prior: Mapping[str, Counter[str]] | None = None,
    prior_lookup: Callable[[set[str]], Mapping[str, Counter[str]]] | None = None,
    batch_size: int = 64,
    read: ReadDocument | None = None,
) -> list[Mention]:
    """Entity mentions in ``chunks`` (one document's), in chunk order then text order.

    Steps, each measured (bench/entity_quality.py, bench/conll.py, bench/real_documents.py):

    1. the model (with docflow's money/legal-form patterns) reads each text unit of each chunk
       on its own (paragraphs; table cells; lines in capitals from a case-restored copy); labels
       are mapped to docflow's (PER -> PERSON; MISC and labels outside ``KEPT_LABELS`` dropped);
    2. ``vocabulary`` spans replace the model spans they overlap, and a span whose key is a
       vocabulary name or alias takes its entry's key, display name and label;
    3. every other span is cut to the name(s) it holds (no article, title, table number or second
       cell) and dropped when it is no name at all (:mod:`.names`);
    4. document-level repairs: a legal-form ORG cut after a connector is joined back
       ("Bank of" + "America Corp.") unless the first part is named alone elsewhere; a span
       inside an occurrence of a longer name found at least twice is widened to it;
    5. resolution (:mod:`.resolution`): defined acronyms and aliases take their long form's
       identity, defined terms that name nothing are dropped, a lone surname or given name joins
       the one full name it belongs to, further occurrences of known names are found; a name
       that is a whole unit on its own (a heading, a lone line, a cell) is kept only if the same
       key is found in the document's running text, or it is a full name the model reads as a
       person (a signature); every entity gets one display name (its longest well-formed form);
    6. :func:`vote_labels` with ``prior`` gives every key one label (units without context and
       mentions found by resolution take the result but do not vote).

    ``prior`` is only asked about the document's own keys (``key in prior``,
    ``prior.get(key)``); ``prior_lookup``, instead of ``prior``, is called once with those keys
    and returns the prior for them (one query of the project's store per document).
    ``nlp`` defaults to :func:`load_nlp`; any pipeline that sets ``doc.ents`` works. ``read`` is
    the model's reading of these chunks when it was done ahead, together with other documents'
    (:func:`read_documents`, with the same ``nlp``); the chunks are read here when it is None.
    """
    nlp = load_nlp() if nlp is None else nlp
    if read is None:
        read = read_documents([chunks], nlp=nlp, batch_size=batch_size)[0]
    units, chunk_texts, evidence = read.units, read.chunk_texts, read.evidence
    if not units:
        return []
    ruler = vocabulary_ruler(vocabulary, nlp=nlp) if vocabulary else None
    found: list[Found] = []
    for unit, doc in zip(units, read.docs, strict=True):
        if ruler is not None:
            ruler.apply(doc)
        found.extend(_mentions_in(doc, unit, ruler, evidence))

    found = _resolve(
        with_reference_authors(widen_partial_names(join_connected(found), chunk_texts), chunk_texts), units
    )
    if prior_lookup is not None and found:
        prior = prior_lookup({f.mention.canonical_key for f in found})
    # Which names a document has depends on the document alone (and the vocabulary), never on
    # what the project held when it ran: the prior only tips labels, so a re-run or a
    # re-delivery stores the same mentions whatever order the project was processed in.
    in_context = {f.mention.canonical_key for f in found if not f.no_context}
    kept = [f for f in found if not f.no_context or f.mention.canonical_key in in_context or _lone_person(f.mention)]
    mentions = _with_display_names([f.mention for f in kept])
    weights = [0.0 if f.no_context else mention_weight(f.mention) for f in kept]
    return _relabel(mentions, _winners(mentions, weights, prior))
