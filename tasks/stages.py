"""The four stage tasks. Thin on purpose: an id in, the shared runner, the stage's work.

Each task's guarantee (see :mod:`tasks.runner`): idempotent — a redelivery or a stale message is
a no-op, a re-run replaces the document's previous result; transient failures retry with
jittered exponential backoff and keep the document in its stage; permanent failures end it in
the stage's ``error_*`` status with the reason; success chains the next stage; while a store the stage needs is unavailable (its breaker open) the task is
deferred, re-sent unchanged but for ``deferred_deliveries`` (:mod:`tasks.deferral`). Names, queues and
time limits come from :mod:`docflow.core.broker`'s configuration, by task name.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from docflow.core.status import Stage
from tasks import work
from tasks.runner import run_stage


@shared_task(bind=True, name=Stage.OCR.task_name)
def process_document(self: Task, document_id: int, deferred_deliveries: int = 0) -> dict[str, Any]:
    """OCR/partition the stored original; idempotent (the extraction is upserted)."""
    return run_stage(
        self, stage=Stage.OCR, document_id=document_id, work=work.ocr_work, deferred_deliveries=deferred_deliveries
    )


@shared_task(bind=True, name=Stage.TEXT.task_name)
def chunk_document(self: Task, document_id: int, deferred_deliveries: int = 0) -> dict[str, Any]:
    """Clean and chunk the extraction; idempotent (chunks upserted on (document, index))."""
    return run_stage(
        self, stage=Stage.TEXT, document_id=document_id, work=work.text_work, deferred_deliveries=deferred_deliveries
    )


@shared_task(bind=True, name=Stage.ENTITY.task_name)
def extract_entities(self: Task, document_id: int, deferred_deliveries: int = 0) -> dict[str, Any]:
    """spaCy NER over the chunks; idempotent (the document's mentions are replaced)."""
    return run_stage(
        self,
        stage=Stage.ENTITY,
        document_id=document_id,
        work=work.entity_work,
        deferred_deliveries=deferred_deliveries,
    )


@shared_task(bind=True, name=Stage.GRAPH.task_name)
def build_graph(self: Task, document_id: int, deferred_deliveries: int = 0) -> dict[str, Any]:
    """Write the document's subgraph to Neo4j; idempotent (delete-then-merge in one transaction)."""
    return run_stage(
        self, stage=Stage.GRAPH, document_id=document_id, work=work.graph_work, deferred_deliveries=deferred_deliveries
    )
