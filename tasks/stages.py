"""The four stage tasks. Thin on purpose: an id in, the shared runner, the stage's work.

Each task's guarantee (see :mod:`tasks.runner`): idempotent — a redelivery or a stale message is
a no-op, a re-run replaces the document's previous result; transient failures retry with
jittered exponential backoff and keep the document in its stage; permanent failures end it in
the stage's ``error_*`` status with the reason; success chains the next stage. While a store the
stage needs is unavailable (its breaker open) the task is deferred, sent again unchanged but for
``deferred_deliveries`` (:mod:`tasks.deferral`). Messages of a stage waiting together run together
in batches (:mod:`tasks.batching`, each task's ``Strategy``); ``alone`` keeps one out of them.
Names, queues and time limits come from :mod:`docflow.core.broker`'s configuration, by task name.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from docflow.core.status import Stage
from tasks import entity_stage, work
from tasks.runner import WorkFunction, run_stage

# Each stage's work, for one document or a batch of them.
STAGE_WORK: dict[Stage, WorkFunction] = {
    Stage.OCR: work.ocr_work,
    Stage.TEXT: work.text_work,
    Stage.ENTITY: entity_stage.entity_work,
    Stage.GRAPH: work.graph_work,
}
# Which documents may run in a batch of several (the others run alone): OCR takes light ones only.
STAGE_BATCHABLE = {Stage.OCR: work.light_original}
BATCHING = "tasks.batching:batching_strategy"


def _run(task: Task, stage: Stage, document_id: int, deferred_deliveries: int) -> dict[str, Any]:
    return run_stage(
        task, stage=stage, document_id=document_id, work=STAGE_WORK[stage], deferred_deliveries=deferred_deliveries
    )


@shared_task(bind=True, name=Stage.OCR.task_name, Strategy=BATCHING)
def process_document(self: Task, document_id: int, deferred_deliveries: int = 0, alone: bool = False) -> dict[str, Any]:
    """OCR/partition the stored original; idempotent (the extraction is upserted)."""
    return _run(self, Stage.OCR, document_id, deferred_deliveries)


@shared_task(bind=True, name=Stage.TEXT.task_name, Strategy=BATCHING)
def chunk_document(self: Task, document_id: int, deferred_deliveries: int = 0, alone: bool = False) -> dict[str, Any]:
    """Clean and chunk the extraction; idempotent (chunks upserted on (document, index))."""
    return _run(self, Stage.TEXT, document_id, deferred_deliveries)


@shared_task(bind=True, name=Stage.ENTITY.task_name, Strategy=BATCHING)
def extract_entities(self: Task, document_id: int, deferred_deliveries: int = 0, alone: bool = False) -> dict[str, Any]:
    """spaCy NER over the chunks; idempotent (the document's mentions are replaced)."""
    return _run(self, Stage.ENTITY, document_id, deferred_deliveries)


@shared_task(bind=True, name=Stage.GRAPH.task_name, Strategy=BATCHING)
def build_graph(self: Task, document_id: int, deferred_deliveries: int = 0, alone: bool = False) -> dict[str, Any]:
    """Write the document's subgraph to Neo4j; idempotent (delete-then-merge in one transaction)."""
    return _run(self, Stage.GRAPH, document_id, deferred_deliveries)
