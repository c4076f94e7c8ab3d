"""The work of each stage: load the inputs by id, call the pure step, persist the result.

No Celery here either: these functions take a :class:`~tasks.runner.StageContext` and return a
small summary, so they run the same under a worker, in the benchmark's raw floor, or in a test.
Each is idempotent (its writes replace the document's previous result).
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from docflow.core import results
from docflow.core.db import session_scope
from docflow.core.errors import PermanentError
from docflow.core.filetypes import detect_file_type
from docflow.core.graph import DocumentGraph, GraphStore, entity_key
from docflow.core.settings import Settings, get_settings
from docflow.core.storage import ObjectStorage
from tasks.runner import StageContext
from tasks.steps.chunking import chunk_elements
from tasks.steps.entities import cooccurrence_relationships, extract_mentions
from tasks.steps.extract import Extraction, ExtractionLimits, configure, extract_document


def extraction_limits(settings: Settings) -> ExtractionLimits:
    return ExtractionLimits(
        max_bytes=settings.max_file_bytes,
        max_pages=settings.max_pages,
        max_pixels=settings.max_pixels,
        max_text_chars=settings.max_text_chars,
        ocr_dpi=settings.ocr_dpi,
    )


def configure_extraction(settings: Settings) -> None:
    """The process-wide side of extraction (tesseract's data and language, PIL's pixel guard).

    Called at worker start-up and before each document (cheap when nothing changed)."""
    configure(tessdata_dir=settings.tessdata_dir, max_pixels=settings.max_pixels)


def extract_file(*, path: Path, filename: str, settings: Settings) -> Extraction:
    """Detect the type from the bytes and extract (shared by the OCR stage and the raw floor)."""
    configure_extraction(settings)
    if path.stat().st_size == 0:
        raise PermanentError("empty file: 0 bytes")
    with open(path, "rb") as handle:
        head = handle.read(8192)
    file_type, _mime = detect_file_type(data_head=head, filename=filename)
    return extract_document(path=path, file_type=file_type, limits=extraction_limits(settings))


def ocr_work(ctx: StageContext) -> dict:
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
        extraction = extract_file(path=local, filename=filename, settings=settings)
    text = extraction.text()
    with session_scope() as session:
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
    return {"pages": extraction.page_count, "ocr_pages": extraction.ocr_pages, "chars": len(text)}


def text_work(ctx: StageContext) -> dict:
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
        count = results.replace_chunks(session, document_id=ctx.document_id, chunks=chunks)
    return {"chunks": count}


def entity_work(ctx: StageContext) -> dict:
    with session_scope() as session:
        chunks = results.load_chunks(session, document_id=ctx.document_id)
    # Chunk rows carry ``chunk_index``; the step reads ``.index``.
    views = [_ChunkView(c.chunk_index, c.text) for c in chunks]
    mentions = extract_mentions(views)
    relationships = cooccurrence_relationships(mentions)
    with session_scope() as session:
        counts = results.replace_entities(
            session,
            document_id=ctx.document_id,
            project_id=ctx.project_id,
            mentions=mentions,
            relationships=relationships,
        )
    return counts


def graph_work(ctx: StageContext) -> dict:
    with session_scope() as session:
        rows = results.load_graph_rows(session, document_id=ctx.document_id)
    name, file_type = ctx.document.original_file_name, ctx.document.file_type

    def key_of(entity_id: int) -> str:
        _chunk, _id, normalized, label, _name, project = rows["entities"][entity_id]
        return entity_key(project_id=project, label=label, normalized_key=normalized)

    graph = DocumentGraph(
        document_uuid=ctx.document_uuid,
        project_id=ctx.project_id,
        name=name,
        file_type=file_type,
        chunks=[
            {"index": c.chunk_index, "text": c.text, "page_start": c.page_start, "page_end": c.page_end}
            for c in rows["chunks"]
        ],
        entities=[
            {"key": key_of(entity_id), "name": row[4], "label": row[3]}
            for entity_id, row in sorted(rows["entities"].items())
        ],
        mentions=[
            {"chunk_index": chunk_index, "entity_key": key_of(entity_id), "count": count}
            for (chunk_index, entity_id), count in sorted(rows["mention_counts"].items())
        ],
        relationships=[
            {"source_key": key_of(source), "target_key": key_of(target), "weight": weight}
            for source, target, weight in rows["relationships"]
        ],
    )
    return _graph_store().replace_document(graph)


@functools.cache
def _graph_store() -> GraphStore:
    # One driver (and its connection pool) per worker process, created after the fork.
    return GraphStore(get_settings())


class _ChunkView:
    __slots__ = ("index", "text")

    def __init__(self, index: int, text: str):
        self.index, self.text = index, text
