"""The work of each stage: load the inputs by id, call the pure step, say what to persist.

No Celery here either: each stage's function takes the contexts of one or more claimed documents
(a batch: :mod:`tasks.batching`) and returns a :class:`~tasks.ports.StageWork` — per document its
summary and its writes, or the error it hit — so it runs the same under a worker, in a test, or
for a single document. The runner writes the results in the stage's completion transaction, only
for the documents this delivery still owns (a delivery overtaken by a delete or a reprocess drops
its result instead of writing over the new one).

Each stage reads the inputs of the whole batch at once (one query per kind of input), works on
each document on its own (a failure is that document's alone; a batch that hits its time limit
leaves the documents it did not start to run alone), and is idempotent: its writes replace the
document's previous result, with the pipeline version that produced it.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from docflow.core import batch_results, results
from docflow.core.db import session_scope
from docflow.core.errors import PermanentError
from docflow.core.filetypes import sniff_file
from docflow.core.graph import GraphStore
from docflow.core.graph_batch import replace_documents
from docflow.core.languages import text_search_config
from docflow.core.settings import Settings, get_settings
from docflow.core.status import Stage
from docflow.core.storage import ObjectStorage
from docflow.core.versions import stage_version
from tasks import members
from tasks.ports import NotStarted, Records, StageContext, StageOutput, StageWork
from tasks.steps.chunking import chunk_elements
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


def each_document(
    ctxs: list[StageContext], work: Callable[[StageContext], StageOutput]
) -> dict[int, StageOutput | BaseException]:
    """``work`` for each document on its own: its output, or the error it raised. When the batch's
    soft time limit strikes, the document at work gets it, and those not yet started get
    :class:`NotStarted` (the runner sends them to run alone)."""
    outputs: dict[int, StageOutput | BaseException] = {}
    for position, ctx in enumerate(ctxs):
        try:
            outputs[ctx.document_id] = work(ctx)
        except SoftTimeLimitExceeded as exc:
            outputs[ctx.document_id] = exc
            for later in ctxs[position + 1 :]:
                outputs[later.document_id] = NotStarted("the batch reached its time limit before this document")
            break
        except Exception as exc:  # noqa: BLE001 - classified by the runner, per document
            outputs[ctx.document_id] = exc
    return outputs


# -- ocr ----------------------------------------------------------------------------------------------

# Originals read in milliseconds (no pages to render or OCR): the only ones OCR batches take.
LIGHT_FILE_TYPES = frozenset({"txt", "md", "csv", "tsv", "html", "xml", "eml"})


def light_original(document: Any) -> bool:
    """Whether a document's original is light enough to run in an OCR batch (text-like, small)."""
    return document.file_type in LIGHT_FILE_TYPES and document.size_bytes <= get_settings().batch_ocr_max_bytes


def ocr_work(ctxs: list[StageContext]) -> StageWork:
    settings = get_settings()
    queued: dict[int, str] = {}  # archive members registered with the result, published after its commit
    return StageWork(
        each_document(ctxs, functools.partial(_ocr_document, settings=settings)),
        store=functools.partial(_store_reads, queued=queued),
        after_commit=lambda: members.publish_members(queued, settings=settings) if queued else None,
    )


def _ocr_document(ctx: StageContext, *, settings: Settings) -> StageOutput:
    document = ctx.document
    object_key, filename, size = document.object_key, document.original_file_name, document.size_bytes
    if not object_key:
        raise PermanentError("the document has no stored original")
    if size > settings.max_file_bytes:
        raise PermanentError(f"file too large: {size} bytes (limit {settings.max_file_bytes})")
    with tempfile.TemporaryDirectory(prefix="docflow-ocr-") as tmp:
        # The local name is derived, never the user's filename.
        local = Path(tmp) / "original"
        _object_storage().get_to_file(key=object_key, path=local)
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
    read = batch_results.ReadResult(
        document_id=ctx.document_id,
        elements_json=extraction.to_json(),
        char_count=len(text),
        page_count=extraction.page_count,
        ocr_pages=extraction.ocr_pages,
        text_pages=extraction.text_pages,
        file_type=extraction.file_type,
        language=language.language,
        version=stage_version(Stage.OCR, settings, ocr_languages=languages),
    )
    summary = {
        "pages": extraction.page_count,
        "ocr_pages": extraction.ocr_pages,
        "chars": len(text),
        "language": language.language,
    }
    return StageOutput(summary, _Read(read, stored, ctx.project_id, document.ocr_languages))


@dataclass(frozen=True)
class _Read:
    """An OCR result to store: the reading, and an archive's members (stored, to register)."""

    read: batch_results.ReadResult
    members: list[members.StoredMember]
    project_id: str
    ocr_languages: str | None


def _store_reads(records: Records, outputs: list[StageOutput], *, queued: dict[int, str]) -> None:
    reads: list[_Read] = [output.result for output in outputs]
    batch_results.save_reads(records.session, documents=[r.read for r in reads])
    # An archive's members are registered with its result (its row held for this delivery: a
    # deleted or reprocessed archive registers nothing) and published after the commit.
    for read in reads:
        if read.members:
            queued.update(
                members.register_members(
                    records.session,
                    archive_id=read.read.document_id,
                    project_id=read.project_id,
                    ocr_languages=read.ocr_languages,
                    stored=read.members,
                )  # fmt: skip
            )


# -- text ---------------------------------------------------------------------------------------------


def text_work(ctxs: list[StageContext]) -> StageWork:
    settings = get_settings()
    with session_scope() as session:
        stored = batch_results.load_extractions(session, document_ids=[ctx.document_id for ctx in ctxs])

    def chunk(ctx: StageContext) -> StageOutput:
        row = stored.get(ctx.document_id)
        if row is None:
            raise PermanentError("no extraction stored for this document (OCR stage output missing)")
        extraction = Extraction.from_json(row.elements_json)
        _text, chunks = chunk_elements(
            extraction.elements, max_chars=settings.chunk_max_chars, overlap_chars=settings.chunk_overlap_chars
        )
        if not chunks:
            raise PermanentError("the extracted text is empty after cleaning")
        return StageOutput(
            {"chunks": len(chunks)}, (ctx.document_id, chunks, text_search_config(ctx.document.language))
        )

    def store(records: Records, outputs: list[StageOutput]) -> None:
        chunked = {document_id: (chunks, config) for document_id, chunks, config in (o.result for o in outputs)}
        batch_results.replace_chunks_many(records.session, chunks=chunked)
        versions = dict.fromkeys(chunked, stage_version(Stage.TEXT, settings))
        batch_results.record_versions(records.session, stage=Stage.TEXT.value, versions=versions)

    return StageWork(each_document(ctxs, chunk), store=store)


# -- graph --------------------------------------------------------------------------------------------


def graph_work(ctxs: list[StageContext]) -> StageWork:
    settings = get_settings()
    with session_scope() as session:

        def load(ctx: StageContext) -> StageOutput:
            graph = results.load_document_graph(
                session,
                document_id=ctx.document_id,
                document_uuid=ctx.document_uuid,
                project_id=ctx.project_id,
                name=ctx.document.original_file_name,
                file_type=ctx.document.file_type,
            )
            return StageOutput({}, (ctx.document_id, graph))

        outputs = each_document(ctxs, load)

    def store(records: Records, owned: list[StageOutput]) -> None:
        # Written while the rows are held (the completion transaction locked them): a delete locks a
        # row first, then removes the subgraph, so this write can never land after a delete.
        counts = replace_documents(_graph_store(), [graph for _id, graph in (o.result for o in owned)])
        for output in owned:
            output.summary.update(counts[output.result[1].document_uuid])
        versions = dict.fromkeys((o.result[0] for o in owned), stage_version(Stage.GRAPH, settings))
        batch_results.record_versions(records.session, stage=Stage.GRAPH.value, versions=versions)

    return StageWork(outputs, store=store)


@functools.cache
def _graph_store() -> GraphStore:
    # One driver (and its connection pool) per worker process, created after the fork.
    return GraphStore(get_settings())


@functools.cache
def _object_storage() -> ObjectStorage:
    # One client (and its HTTP connection pool) per worker process: connections are kept alive.
    return ObjectStorage(get_settings())
