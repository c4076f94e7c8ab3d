"""The work of each stage: load the inputs by id, call the pure step, persist the result.

No Celery here either: these functions take a :class:`~tasks.runner.StageContext` and return a
small summary, so they run the same under a worker, in the benchmark's raw floor, or in a test.

Each is idempotent (its writes replace the document's previous result) and writes only while it
still owns the document: the result, and the pipeline version that produced it, are written in
one transaction that holds the row for this delivery's task (``documents.hold_for_task``), so a
delivery overtaken by a delete or a reprocess drops its result instead of writing over the new one.
"""

from __future__ import annotations

import functools
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from docflow.core import documents, results
from docflow.core.db import session_scope
from docflow.core.errors import PermanentError
from docflow.core.filetypes import sniff_file
from docflow.core.graph import GraphStore
from docflow.core.languages import text_search_config
from docflow.core.settings import Settings, get_settings
from docflow.core.status import Stage
from docflow.core.storage import ObjectStorage
from docflow.core.versions import stage_version
from docflow.core.vocabulary import vocabulary_hash
from tasks import members
from tasks.ports import StageContext
from tasks.steps.chunking import chunk_elements
from tasks.steps.entities import (
    MergeTarget,
    apply_merges,
    cooccurrence_relationships,
    extract_mentions,
    load_nlp,
    ner_model_for,
)
from tasks.steps.extract import Extraction, ExtractionLimits, configure, extract_document, ocr_languages_used
from tasks.steps.language import identify_language


def extraction_limits(settings: Settings) -> ExtractionLimits:
    return ExtractionLimits(
        max_bytes=settings.max_file_bytes,
        max_pages=settings.max_pages,
        max_pixels=settings.max_pixels,
        max_text_chars=settings.max_text_chars,
        ocr_dpi=settings.ocr_dpi,
    )


def configure_extraction(
    settings: Settings, *, ocr_languages: str | None = None, choose_ocr_languages: bool = False
) -> None:
    """The process-wide side of extraction (tesseract's data and languages, PIL's pixel guard).

    Called at worker start-up and before each document (cheap when nothing changed)."""
    configure(
        tessdata_dir=settings.tessdata_dir,
        ocr_lang=ocr_languages or settings.ocr_languages,
        max_pixels=settings.max_pixels,
        choose_ocr_languages=choose_ocr_languages,
    )


def extract_file(
    *,
    path: Path,
    filename: str,
    settings: Settings,
    ocr_languages: str | None = None,
    choose_ocr_languages: bool = False,
    depth: int = 0,
    members_dir: Path | None = None,
) -> Extraction:
    """Detect the type from the bytes and extract (shared by the OCR stage and the raw floor).

    ``choose_ocr_languages``: the first OCR reading may choose better-fitting installed packs than
    ``ocr_languages`` (:func:`tasks.steps.extract.ocr_languages_used` says what was used).
    ``depth``/``members_dir``: see :func:`~tasks.steps.extract.registry.extract_document` (archives)."""
    configure_extraction(settings, ocr_languages=ocr_languages, choose_ocr_languages=choose_ocr_languages)
    if path.stat().st_size == 0:
        raise PermanentError("empty file: 0 bytes")
    file_type, _mime = sniff_file(path, filename=filename)
    return extract_document(
        path=path, file_type=file_type, limits=extraction_limits(settings), depth=depth, members_dir=members_dir
    )


def ocr_work(ctx: StageContext) -> dict[str, Any]:
    settings = get_settings()
    document = ctx.document
    object_key, filename, size = document.object_key, document.original_file_name, document.size_bytes
    if not object_key:
        raise PermanentError("the document has no stored original")
    if size > settings.max_file_bytes:
        raise PermanentError(f"file too large: {size} bytes (limit {settings.max_file_bytes})")
    with tempfile.TemporaryDirectory(prefix="docflow-ocr-") as tmp:
        # The local name is derived, never the user's filename.
        local = Path(tmp) / "original"
        ObjectStorage(settings).get_to_file(key=object_key, path=local)
        languages = settings.ocr_languages_for(ctx.project_id, document.ocr_languages)
        # Neither the sweep (recorded on the document) nor the project fixes the languages: the
        # scan's first reading may choose the installed packs of its own language or script.
        choose = (
            settings.ocr_choose_languages
            and document.ocr_languages is None
            and ctx.project_id not in settings.project_ocr_languages
        )
        # -- archives (tasks/members.py): members are stored now, registered with the result --
        (Path(tmp) / "members").mkdir()
        extraction = extract_file(
            path=local, filename=filename, settings=settings, ocr_languages=languages,
            choose_ocr_languages=choose,
            depth=members.nesting_depth(parent_document_id=document.parent_document_id),
            members_dir=Path(tmp) / "members",
        )  # fmt: skip
        if extraction.ocr_pages and choose and (used := ocr_languages_used()) != languages:
            languages = f"{used} (chosen)"
        stored = members.store_members(extraction.members, project_id=ctx.project_id, settings=settings)
    text = extraction.text()
    language = identify_language(text)
    with session_scope() as session:
        documents.hold_for_task(session, document_id=ctx.document_id, task_id=ctx.task_id)
        queued_members = members.register_members(
            session, archive_id=ctx.document_id, project_id=ctx.project_id,
            ocr_languages=document.ocr_languages, stored=stored,
        )  # fmt: skip
        results.save_language(session, document_id=ctx.document_id, language=language.language)
        results.save_extraction(
            session,
            document_id=ctx.document_id,
            elements_json=extraction.to_json(),
            char_count=len(text),
            page_count=extraction.page_count,
            ocr_pages=extraction.ocr_pages,
            text_pages=extraction.text_pages,
            file_type=extraction.file_type,
        )
        results.record_version(
            session,
            document_id=ctx.document_id,
            stage=Stage.OCR.value,
            version=stage_version(Stage.OCR, settings, ocr_languages=languages),
        )
    members.publish_members(queued_members, settings=settings)
    return {
        "pages": extraction.page_count,
        "ocr_pages": extraction.ocr_pages,
        "chars": len(text),
        "language": language.language,
    }


def text_work(ctx: StageContext) -> dict[str, Any]:
    settings = get_settings()
    with session_scope() as session:
        stored = results.load_extraction(session, document_id=ctx.document_id)
        if stored is None:
            raise PermanentError("no extraction stored for this document (OCR stage output missing)")
        extraction = Extraction.from_json(stored.elements_json)
    _text, chunks = chunk_elements(
        extraction.elements, max_chars=settings.chunk_max_chars, overlap_chars=settings.chunk_overlap_chars
    )
    if not chunks:
        raise PermanentError("the extracted text is empty after cleaning")
    with session_scope() as session:
        documents.hold_for_task(session, document_id=ctx.document_id, task_id=ctx.task_id)
        count = results.replace_chunks(
            session, document_id=ctx.document_id, chunks=chunks, ts_config=text_search_config(ctx.document.language)
        )
        _record_version(session, ctx, Stage.TEXT, settings)
    return {"chunks": count}


def entity_work(ctx: StageContext) -> dict[str, Any]:
    settings = get_settings()
    language = ctx.document.language
    model = ner_model_for(language, settings.ner_models, settings.ner_model)
    with session_scope() as session:
        chunks = results.load_chunks(session, document_id=ctx.document_id)
        vocabulary = results.project_vocabulary(session, project_id=ctx.project_id) if model else []
        merges = results.project_merges(session, project_id=ctx.project_id) if model else {}
    if model is None:
        # Text, chunks, search and graph stay; no English-model noise on, say, German text.
        mentions = []
    else:
        # Chunk rows carry ``chunk_index``; the step reads ``.index``.
        views = [_ChunkView(c.chunk_index, c.text) for c in chunks]
        mentions = extract_mentions(
            views,
            nlp=load_nlp(model),
            vocabulary=vocabulary,
            prior_lookup=functools.partial(_label_prior, project_id=ctx.project_id, document_id=ctx.document_id),
        )
        # Reviewed merges (docflow entities merge) before relationships: edges join merged entities.
        mentions = apply_merges(mentions, {k: MergeTarget(*v) for k, v in merges.items()})
    relationships = cooccurrence_relationships(mentions)
    version = stage_version(
        Stage.ENTITY,
        settings,
        ner_model=model,
        language=language,
        vocabulary=vocabulary_hash(vocabulary) if vocabulary else None,
    )
    with session_scope() as session:
        documents.hold_for_task(session, document_id=ctx.document_id, task_id=ctx.task_id)
        counts = results.replace_entities(
            session,
            document_id=ctx.document_id,
            project_id=ctx.project_id,
            mentions=mentions,
            relationships=relationships,
        )
        results.record_version(session, document_id=ctx.document_id, stage=Stage.ENTITY.value, version=version)
    return {**counts, "model": model or f"none for {language}"}


def _label_prior(keys: set[str], *, project_id: str, document_id: int) -> dict[str, Counter[str]]:
    with session_scope() as session:
        return results.label_prior(session, project_id=project_id, keys=keys, document_id=document_id)


def graph_work(ctx: StageContext) -> dict[str, Any]:
    settings = get_settings()
    with session_scope() as session:
        graph = results.load_document_graph(
            session,
            document_id=ctx.document_id,
            document_uuid=ctx.document_uuid,
            project_id=ctx.project_id,
            name=ctx.document.original_file_name,
            file_type=ctx.document.file_type,
        )
    # The row stays held while Neo4j is written: a delete locks it first, then removes the
    # subgraph, so this write can never land after a delete and leave a graph behind.
    with session_scope() as session:
        documents.hold_for_task(session, document_id=ctx.document_id, task_id=ctx.task_id)
        summary = _graph_store().replace_document(graph)
        _record_version(session, ctx, Stage.GRAPH, settings)
    return summary


def _record_version(session: Any, ctx: StageContext, stage: Stage, settings: Settings) -> None:
    results.record_version(
        session, document_id=ctx.document_id, stage=stage.value, version=stage_version(stage, settings)
    )


@functools.cache
def _graph_store() -> GraphStore:
    # One driver (and its connection pool) per worker process, created after the fork.
    return GraphStore(get_settings())


class _ChunkView:
    __slots__ = ("index", "text")

    def __init__(self, index: int, text: str):
        self.index, self.text = index, text
