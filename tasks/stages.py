"""The four stage tasks. Thin on purpose: an id in, the shared runner, the stage's work.

Each task's guarantee (see :mod:`tasks.runner`): idempotent — a redelivery or a stale message is
a no-op, a re-run replaces the document's previous result; transient failures retry with
exponential backoff and keep the document in its stage; permanent failures end it in the
stage's ``error_*`` status with the reason; success chains the next stage.
"""

from __future__ import annotations

from docflow.settings import get_settings
from docflow.status import Stage
from tasks import work
from tasks.celery_app import TASK_NAMES, app
from tasks.runner import run_stage

_settings = get_settings()


def _limits(stage: Stage) -> dict:
    soft, hard = _settings.time_limits(stage.value)
    return {"soft_time_limit": soft, "time_limit": hard}


@app.task(bind=True, name=TASK_NAMES["ocr"], **_limits(Stage.OCR))
def process_document(self, document_id: int) -> dict:
    """OCR/partition the stored original; idempotent (the extraction is upserted)."""
    return run_stage(self, stage=Stage.OCR, document_id=document_id, work=work.ocr_work)


@app.task(bind=True, name=TASK_NAMES["text"], **_limits(Stage.TEXT))
def chunk_document(self, document_id: int) -> dict:
    """Clean and chunk the extraction; idempotent (chunks upserted on (document, index))."""
    return run_stage(self, stage=Stage.TEXT, document_id=document_id, work=work.text_work)


@app.task(bind=True, name=TASK_NAMES["entity"], **_limits(Stage.ENTITY))
def extract_entities(self, document_id: int) -> dict:
    """spaCy NER over the chunks; idempotent (the document's mentions are replaced)."""
    return run_stage(self, stage=Stage.ENTITY, document_id=document_id, work=work.entity_work)


@app.task(bind=True, name=TASK_NAMES["graph"], **_limits(Stage.GRAPH))
def build_graph(self, document_id: int) -> dict:
    """Write the document's subgraph to Neo4j; idempotent (delete-then-merge in one transaction)."""
    return run_stage(self, stage=Stage.GRAPH, document_id=document_id, work=work.graph_work)
