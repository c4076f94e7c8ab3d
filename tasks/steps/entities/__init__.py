"""Named entities per chunk, their canonical identity, and co-occurrence between them.

An entity's identity is the pair ``(label, canonical_key)``. The key folds case, Unicode
compatibility forms, whitespace, surrounding punctuation, a leading "the", a possessive "'s"
and legal-form suffixes, under every label, so "Acme Logistics Inc." and "ACME  Logistics"
are one entity (:mod:`docflow.core.entity_names`). Within a document every key gets one label by vote, with
an optional project prior (:func:`vote_labels`); a project vocabulary of known names and
aliases overrides the model where it matches (:mod:`.vocabulary`). Models exist per language
(:func:`ner_model_for`, :func:`load_nlp`). Everything here is deterministic for a given model.

Modules: ``model`` (loading, per-language models, label mapping), ``vocabulary`` (matching
known names and aliases; the entries and file formats are :mod:`docflow.core.vocabulary`),
``mentions`` (extraction and the vote) with ``units`` (what the model reads), ``names`` (what a
name holds), ``spans`` (repairs across a document) and ``resolution`` (one entity per thing in a
document), ``merges`` (a project's reviewed merges), ``relationships`` (co-occurrence). Pure apart
from loading spaCy models.
"""

from __future__ import annotations

from docflow.core.entity_names import LEGAL_FORMS, canonical_key, canonical_name
from docflow.core.vocabulary import VOCABULARY_LABELS, VocabularyEntry, parse_vocabulary, vocabulary_hash
from tasks.steps.entities.mentions import (
    PRIOR_WEIGHT,
    ChunkLike,
    Mention,
    extract_mentions,
    mention_weight,
    vote_labels,
)
from tasks.steps.entities.merges import MergeTarget, apply_merges, resolve_merge
from tasks.steps.entities.model import (
    DEFAULT_MODEL,
    DEFAULT_MODELS,
    KEPT_LABELS,
    docflow_label,
    load_nlp,
    ner_model_for,
)
from tasks.steps.entities.reading import ReadDocument, read_documents
from tasks.steps.entities.relationships import COOCCURRENCE_LABELS, Relationship, cooccurrence_relationships
from tasks.steps.entities.vocabulary import VocabularyRuler, vocabulary_ruler

__all__ = [
    "COOCCURRENCE_LABELS",
    "DEFAULT_MODEL",
    "DEFAULT_MODELS",
    "KEPT_LABELS",
    "LEGAL_FORMS",
    "MergeTarget",
    "PRIOR_WEIGHT",
    "VOCABULARY_LABELS",
    "ChunkLike",
    "Mention",
    "ReadDocument",
    "Relationship",
    "VocabularyEntry",
    "VocabularyRuler",
    "apply_merges",
    "canonical_key",
    "canonical_name",
    "cooccurrence_relationships",
    "docflow_label",
    "extract_mentions",
    "load_nlp",
    "mention_weight",
    "ner_model_for",
    "parse_vocabulary",
    "read_documents",
    "resolve_merge",
    "vocabulary_hash",
    "vocabulary_ruler",
    "vote_labels",
]
