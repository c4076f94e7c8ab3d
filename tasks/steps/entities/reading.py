"""What the model reads of a document: its text units (:mod:`.units`), and the model's doc for each.

Separate from the mention rules (:mod:`.mentions`) so that several documents can be read in one
pass of the model (:func:`read_documents`) and each then goes through the rules on its own.

Pure apart from loading the spaCy model: no I/O, no framework imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tasks.steps.entities.model import load_nlp
from tasks.steps.entities.units import TextUnit, casing_evidence, has_broken_layer, text_units

__all__ = ["ChunkLike", "ReadDocument", "read_documents"]


class ChunkLike(Protocol):
    @property
    def index(self) -> int: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class ReadDocument:
    """One document as the model read it: its chunks' texts, the casing evidence they give, its
    text units (:mod:`.units`) and the model's doc for each unit, in the same order."""

    chunk_texts: dict[int, str]
    evidence: Any
    units: list[TextUnit]
    docs: list[Any]


def read_documents(
    documents: Sequence[Iterable[ChunkLike]], *, nlp: Any = None, batch_size: int = 64
) -> list[ReadDocument]:
    """The model's reading of each document's text units, all documents' units in one pass.

    One ``nlp.pipe`` over many short documents fills the model's batches: ~200-word documents
    read 20% faster than in one pass each (bench/README.md, "NER on numpy's BLAS, one NER pass per
    batch"). What a document's units are, and what the model reads in each, does not depend on the
    others.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    nlp = load_nlp() if nlp is None else nlp
    prepared = []
    for document in documents:
        chunks = list(document)
        chunk_texts = {chunk.index: chunk.text for chunk in chunks}
        evidence = casing_evidence(chunk_texts.values())
        broken = has_broken_layer(chunk_texts.values())
        units = [u for c in chunks for u in text_units(c.index, c.text, evidence, broken_layer=broken)]
        prepared.append((chunk_texts, evidence, units))
    docs = iter(nlp.pipe((u.ner_text for _, _, units in prepared for u in units), batch_size=batch_size))
    return [
        ReadDocument(chunk_texts, evidence, units, [next(docs) for _ in units])
        for chunk_texts, evidence, units in prepared
    ]
