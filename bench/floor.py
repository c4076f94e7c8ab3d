"""The raw floor: docflow's own stage steps called directly, no orchestration at all.

Each document goes extract -> chunk -> NER -> co-occurrence and typed relationships -> graph rows (built in memory, the
same shape :class:`docflow.core.graph.DocumentGraph` takes) inside a ``ProcessPoolExecutor`` of the
same size as the worker pool. No Celery, Prefect, Redis, PostgreSQL, S3 or Neo4j is touched.

Fairness, so the ratio pipeline/floor measures orchestration only:

* the pool is started inside the timed window and its processes load tesseract and spaCy on
  first use, exactly like fresh worker children do;
* the same settings-derived limits and chunk sizes as the workers (``tasks.work.extract_file``,
  ``settings.chunk_max_chars``/``chunk_overlap_chars``) and the same model;
* documents are submitted in corpus order, one task each (like one Celery message each).
"""

from __future__ import annotations

import concurrent.futures
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class FloorDocument:
    file: str
    pages: int
    ocr_pages: int
    seconds: float
    text: str  # the canonical document text the chunks point into
    extracted: str  # Extraction.text(): what OCR/partition produced
    chunks: list[tuple[int, int, str]]
    mentions: list[tuple[str, str]]  # (label, surface text)
    graph_rows: dict[str, int]
    error: str | None = None


@dataclass
class FloorResult:
    wall_s: float
    processes: int
    documents: list[FloorDocument] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return sum(d.pages for d in self.documents)


def _init_worker() -> None:
    # The same per-process environment the Celery workers get (docflow.services.workers.WORKER_ENV).
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def process_one(path: str) -> FloorDocument:
    """All four stages' pure work for one file, in this process."""
    from docflow.core.errors import PermanentError
    from docflow.core.graph import chunk_key, entity_key
    from docflow.core.settings import get_settings
    from tasks.steps.chunking import chunk_elements
    from tasks.steps.entities import cooccurrence_relationships, extract_mentions, load_nlp, ner_model_for
    from tasks.steps.language import identify_language
    from tasks.steps.relations import extract_relations, load_parser
    from tasks.work import extract_file

    settings = get_settings()
    began = time.perf_counter()
    source = Path(path)
    try:
        # A document of a project that fixes no OCR language, as the OCR stage reads it by default.
        extraction = extract_file(
            path=source, filename=source.name, settings=settings, choose_ocr_languages=settings.ocr_choose_languages
        )
    except PermanentError as exc:
        return FloorDocument(source.name, 0, 0, time.perf_counter() - began, "", "", [], [], {}, str(exc))
    text, chunks = chunk_elements(
        extraction.elements, max_chars=settings.chunk_max_chars, overlap_chars=settings.chunk_overlap_chars
    )
    # The same choices the entity stage makes: the document's language picks the model. (The
    # project prior is a database read in the pipeline; the floor has no database.)
    language = identify_language(text).language
    model = ner_model_for(language, settings.ner_models, settings.ner_model)
    mentions = extract_mentions(chunks, nlp=load_nlp(model)) if model else []
    relationships: list[Any] = [*cooccurrence_relationships(mentions)]
    if model:
        relationships += extract_relations(
            elements=extraction.elements, chunks=chunks, mentions=mentions, language=language, parser=load_parser(model)
        )
    # The graph stage's rows, built in memory as the graph stage builds them from PostgreSQL.
    project, uuid = "floor", source.stem

    def key(label: str, normalized: str) -> str:
        return entity_key(project_id=project, label=label, normalized_key=normalized)

    entities = {key(m.label, m.canonical_key): {"name": m.canonical_name, "label": m.label} for m in mentions}
    mention_counts = Counter(
        (chunk_key(document_uuid=uuid, chunk_index=m.chunk_index), key(m.label, m.canonical_key)) for m in mentions
    )
    rows = {
        "chunks": len([{"key": chunk_key(document_uuid=uuid, chunk_index=c.index), "text": c.text} for c in chunks]),
        "entities": len(entities),
        "mentions": len(mention_counts),
        "relationships": len(
            [
                {
                    "source_key": key(r.source_label, r.source_key),
                    "target_key": key(r.target_label, r.target_key),
                    "weight": r.weight,
                }
                for r in relationships
            ]
        ),
    }
    return FloorDocument(
        file=source.name,
        pages=extraction.page_count,
        ocr_pages=extraction.ocr_pages,
        seconds=time.perf_counter() - began,
        text=text,
        extracted=extraction.text(),
        chunks=[(c.char_start, c.char_end, c.text) for c in chunks],
        mentions=[(m.label, m.text) for m in mentions],
        graph_rows=rows,
    )


def run_floor(paths: list[Path], *, processes: int) -> FloorResult:
    """Process ``paths`` in a fresh pool of ``processes``; the wall time includes pool start-up."""
    began = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(processes, initializer=_init_worker) as pool:
        documents = list(pool.map(process_one, [str(p) for p in paths]))
    return FloorResult(time.perf_counter() - began, processes, documents)
