"""Publishing stage messages against the real Redis: what lands in the queue, and how."""

from __future__ import annotations

import json
import uuid

import pytest

from docflow.core.broker import PUBLISH_BATCH, publish_many, queue_keys, redis_client
from docflow.core.errors import TransientError
from docflow.core.status import Stage
from docflow.ops.reconcile import decode_envelope
from tests.support.queues import declare_queue, with_queues

pytestmark = [pytest.mark.services]


@pytest.fixture
def own_ocr_queue(stack):
    """(queue, settings routing OCR to it): a queue of this test's own that no worker consumes."""
    queue = f"test-publish-{uuid.uuid4().hex[:8]}"
    declare_queue(queue)
    yield queue, with_queues(stack, ocr=queue)
    redis_client(stack).delete(*queue_keys(queue))


def test_a_batch_larger_than_one_pipeline_lands_as_exactly_one_message_per_document(stack, own_ocr_queue):
    # GIVEN a queue of its own that no worker consumes, and more documents than one publish batch
    queue, settings = own_ocr_queue
    task_ids = {document_id: str(uuid.uuid4()) for document_id in range(1, 2 * PUBLISH_BATCH + 38)}
    client = redis_client(stack)
    calls_before = _lpush_calls(client)
    # WHEN they are published in one call
    publish_many(stage=Stage.OCR, task_ids=task_ids, settings=settings)
    # THEN every document has exactly one message with its own task id, as a worker decodes it
    raw = [item for key in queue_keys(queue) for item in client.lrange(key, 0, -1)]
    decoded = [decode_envelope(json.loads(item)) for item in raw]
    assert sorted(doc for _task, _name, doc in decoded) == sorted(task_ids)
    assert {doc: task for task, _name, doc in decoded} == task_ids
    assert {name for _task, name, _doc in decoded} == {Stage.OCR.task_name}
    # AND nothing waits on a result: the message says so (no result-channel subscription)
    assert all(json.loads(item)["headers"]["ignore_result"] is True for item in raw)
    # AND Redis saw one LPUSH per message (at least; other tests may publish meanwhile)
    assert _lpush_calls(client) - calls_before >= len(task_ids)


def _lpush_calls(client) -> int:
    return int(client.info("commandstats").get("cmdstat_lpush", {}).get("calls", 0))


def test_a_redis_that_refuses_the_writes_is_a_transient_error_in_redis_own_words(stack, own_ocr_queue):
    # GIVEN a Redis that answers but refuses writes (as with MISCONF on a full AOF disk; here by
    # asking for a replica it does not have), and a queue nobody consumes
    _queue, settings = own_ocr_queue
    client = redis_client(stack)
    # (one message first: the queue's binding is written once, so the refusal comes at the flush)
    publish_many(stage=Stage.OCR, task_ids={0: str(uuid.uuid4())}, settings=settings)
    client.config_set("min-replicas-to-write", 1)
    try:
        # WHEN a batch is published THEN it is refused as transient, saying what Redis said
        # (not only kombu's "delivery is uncertain")
        with pytest.raises(TransientError, match="NOREPLICAS"):
            publish_many(stage=Stage.OCR, task_ids={1: str(uuid.uuid4()), 2: str(uuid.uuid4())}, settings=settings)
    finally:
        client.config_set("min-replicas-to-write", 0)
