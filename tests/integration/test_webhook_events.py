"""A webhook event is never passed by: a completion that commits after the deliverer's bound moved
beyond the moment it began is still found (real PostgreSQL and Redis; the stage runner's own path)."""

from __future__ import annotations

import pytest

from docflow.core import documents
from docflow.core.db import session_scope
from docflow.core.status import Stage, Status
from docflow.ops.webhooks import collect_events, list_deliveries, remove_webhook, set_webhook
from tasks.outcomes import Delivery
from tasks.ports import Records, StageContext, StageOutput, StageWork
from tasks.runner import run_deliveries

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.services]


def _document_at_the_graph_stage(project_id: str, task_id: str) -> int:
    with session_scope() as session:
        registered = documents.register_document(
            session,
            project_id=project_id,
            original_file_name="note.txt",
            sha256="b" * 64,
            size_bytes=10,
            object_key=None,
        )
        document_id = registered.document.id
        path = [Status.OCR_QUEUED, Status.OCR_PROCESSING, Status.OCR_COMPLETE, Status.TEXT_PROCESSING]
        path += [Status.TEXT_COMPLETE, Status.ENTITY_PROCESSING, Status.ENTITY_COMPLETE]
        for status in path:
            documents.transition(session, document_id=document_id, to=status, task_id=task_id)
    return document_id


def test_a_completion_committing_after_the_deliverers_bound_is_still_delivered(stack, project_id):
    # GIVEN a project with a webhook and a document waiting for its graph stage
    task_id = f"graph-{project_id}"
    document_id = _document_at_the_graph_stage(project_id, task_id)
    set_webhook(project_id=project_id, url="http://127.0.0.1:9/hook", created_by="test")
    found_during: list[list[int]] = []

    def slow_graph_write(ctxs: list[StageContext]) -> StageWork:
        def store(_records: Records, _outputs: list[StageOutput]) -> None:
            # WHEN the deliverer looks for events while the completion transaction is still open
            # (its graph write taking long), and so moves its bound past the moment it began
            collect_events(settle_s=0)
            found_during.append([d.document_id for d in list_deliveries(project_id)])

        return StageWork({ctx.document_id: StageOutput({}, ctx.document_id) for ctx in ctxs}, store=store)

    try:
        (outcome,) = run_deliveries(
            stage=Stage.GRAPH, deliveries=[Delivery(task_id, document_id)], work=slow_graph_write
        )
        assert outcome.kind == "succeeded" and found_during == [[]]  # not committed yet: nothing to see
        # THEN once it has committed, the next look finds its event, and a delivery is recorded
        collect_events(settle_s=0)
        assert [(d.document_id, d.event) for d in list_deliveries(project_id)] == [(document_id, "graph_complete")]
    finally:
        remove_webhook(project_id)
