"""The entity stage's work: the names in each document's chunks, the entities they are, and what the
text says about them (typed relationships), for one document or a batch.

Like the other stages (:mod:`tasks.work`): the batch's inputs read at once, each document worked on
its own, writes that replace the document's previous result. The batch's documents are also read
by the model together, one pass per model (:func:`_read_ahead`), which changes nothing in what a
document's entities are.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from docflow.core import batch_results, results
from docflow.core.db import session_scope
from docflow.core.settings import Settings, get_settings
from docflow.core.status import Stage
from docflow.core.versions import stage_version
from docflow.core.vocabulary import vocabulary_hash
from tasks.ports import NotStarted, Records, StageContext, StageOutput, StageWork
from tasks.steps.entities import (
    MergeTarget,
    ReadDocument,
    apply_merges,
    cooccurrence_relationships,
    extract_mentions,
    load_nlp,
    ner_model_for,
    read_documents,
)
from tasks.steps.extract import Extraction
from tasks.steps.relations import extract_relations, load_parser
from tasks.work import each_document

# Only short documents are read ahead: they gain (a short text alone leaves the model's batches
# half empty), and holding the model's reading of a batch of long documents at once would hold
# many times the memory of reading one at a time (a long document fills the batches by itself).
READ_AHEAD_MAX_CHARS = 20_000


def entity_work(ctxs: list[StageContext]) -> StageWork:
    settings = get_settings()
    # One session for the batch's reads: its chunks, its projects' vocabularies and reviewed merges,
    # each document's label prior (asked once per document, by the step, after reading it).
    with session_scope() as session:
        chunks = batch_results.load_chunks_many(session, document_ids=[ctx.document_id for ctx in ctxs])
        extractions = batch_results.load_extractions(session, document_ids=[ctx.document_id for ctx in ctxs])
        projects = {ctx.project_id for ctx in ctxs}
        vocabularies = {project: results.project_vocabulary(session, project_id=project) for project in projects}
        merges = {
            project: {k: MergeTarget(*v) for k, v in results.project_merges(session, project_id=project).items()}
            for project in projects
        }
        try:
            read_ahead = _read_ahead(ctxs, chunks, settings=settings)
        except SoftTimeLimitExceeded:
            not_started = NotStarted("the batch reached its time limit while its documents were read together")
            return StageWork(dict.fromkeys((ctx.document_id for ctx in ctxs), not_started), store=_store_entities)
        outputs = each_document(
            ctxs,
            lambda ctx: _entity_document(
                ctx,
                _EntityInputs(
                    chunks.get(ctx.document_id, []),
                    vocabularies[ctx.project_id],
                    merges[ctx.project_id],
                    extractions.get(ctx.document_id),
                    read_ahead.get(ctx.document_id),
                ),
                session,
                settings=settings,
            ),
        )
    return StageWork(outputs, store=_store_entities)


def _read_ahead(
    ctxs: list[StageContext], chunks: dict[int, list[Any]], *, settings: Settings
) -> dict[int, ReadDocument]:
    """The model's reading of the batch's documents, all those of one model in one pass
    (:func:`read_documents`: short documents read ~20% faster together than one by one).

    What a document's entities are does not depend on the batch: the same units, read by the same
    model. A batch whose reading together fails reads each document on its own in its step, so a
    bad document's error stays its own; a document alone, or longer than ``READ_AHEAD_MAX_CHARS``,
    is read there too.
    """
    groups: defaultdict[str, list[StageContext]] = defaultdict(list)
    for ctx in ctxs:
        model = ner_model_for(ctx.document.language, settings.ner_models, settings.ner_model)
        rows = chunks.get(ctx.document_id)
        if model is not None and rows and sum(len(row.text) for row in rows) <= READ_AHEAD_MAX_CHARS:
            groups[model].append(ctx)
    read: dict[int, ReadDocument] = {}
    for model, group in groups.items():
        if len(group) < 2:
            continue
        try:
            documents = read_documents([_views(chunks[ctx.document_id]) for ctx in group], nlp=load_nlp(model))
        except SoftTimeLimitExceeded:
            raise
        except Exception:  # noqa: BLE001 - each document is read again on its own, and fails on its own
            continue
        read.update(zip((ctx.document_id for ctx in group), documents, strict=True))
    return read


def _views(chunks: list[Any]) -> list[_ChunkView]:
    """Chunk rows as the steps read them (rows carry ``chunk_index``; the steps read ``.index``)."""
    return [_ChunkView(c.chunk_index, c.text, c.char_start, c.char_end) for c in chunks]


@dataclass(frozen=True)
class _EntityInputs:
    """What the entity stage reads for a document: its chunks, its project's vocabulary and merges."""

    chunks: list[Any]
    vocabulary: list[Any]
    merges: dict[tuple[str, str], MergeTarget]
    extraction: Any  # its stored extraction row (the typed relationships read its elements), or None
    read: ReadDocument | None  # the model's reading of its chunks, done with the batch's others, or None


def _entity_document(ctx: StageContext, inputs: _EntityInputs, session: Any, *, settings: Settings) -> StageOutput:
    chunks, vocabulary = inputs.chunks, inputs.vocabulary
    language = ctx.document.language
    model = ner_model_for(language, settings.ner_models, settings.ner_model)
    relationships: list[Any] = []
    if model is None:
        # Text, chunks, search and graph stay; no English-model noise on, say, German text.
        mentions = []
        vocabulary = []
    else:
        views = _views(chunks)
        mentions = extract_mentions(
            views,
            nlp=load_nlp(model),
            read=inputs.read,
            vocabulary=vocabulary,
            prior_lookup=functools.partial(
                _label_prior, session=session, project_id=ctx.project_id, document_id=ctx.document_id
            ),
        )
        # Reviewed merges (docflow entities merge) before relationships: edges join merged entities.
        mentions = apply_merges(mentions, inputs.merges)
        if inputs.extraction is not None:  # typed relationships: what the text says about the entities it names
            elements = Extraction.from_json(inputs.extraction.elements_json).elements
            relationships += extract_relations(
                elements=elements, chunks=views, mentions=mentions, language=language, parser=load_parser(model)
            )
    relationships = [*cooccurrence_relationships(mentions), *relationships]
    version = stage_version(
        Stage.ENTITY,
        settings,
        ner_model=model,
        language=language,
        vocabulary=vocabulary_hash(vocabulary) if vocabulary else None,
    )
    found = batch_results.EntityResult(ctx.document_id, ctx.project_id, mentions, relationships)
    return StageOutput({"model": model or f"none for {language}"}, (found, version))


def _store_entities(records: Records, outputs: list[StageOutput]) -> None:
    found = {output.result[0].document_id: output for output in outputs}
    counts = batch_results.replace_entities_many(records.session, documents=[o.result[0] for o in outputs])
    versions = {document_id: output.result[1] for document_id, output in found.items()}
    batch_results.record_versions(records.session, stage=Stage.ENTITY.value, versions=versions)
    for document_id, output in found.items():
        output.summary.update(counts[document_id])


def _label_prior(keys: set[str], *, session: Any, project_id: str, document_id: int) -> dict[str, Counter[str]]:
    return results.label_prior(session, project_id=project_id, keys=keys, document_id=document_id)


class _ChunkView:
    __slots__ = ("char_end", "char_start", "index", "text")

    def __init__(self, index: int, text: str, char_start: int, char_end: int):
        self.index, self.text, self.char_start, self.char_end = index, text, char_start, char_end
