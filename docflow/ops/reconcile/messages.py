"""Reconcile's view of the transport: every broker message decoded, and what live workers hold.

Redis is read in one ``MULTI``/``EXEC`` pipeline (an atomic snapshot): every waiting message of each
stage queue's lists (priority siblings included), the ``unacked`` hash and the ``unacked_index``
delivery times. Every message is decoded to (task id, task name, document id); a message that does
not decode is reported, never fatal.
"""

from __future__ import annotations

import ast
import base64
import gc
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import redis

from docflow.core.broker import UNACKED_HASH, UNACKED_INDEX, get_app, queue_keys, queues_by_worker
from docflow.core.status import STAGE_BY_TASK_NAME

# Plain strings, looked up once per message: an enum member's ``.value`` is a descriptor call.
_STAGE_BY_TASK_NAME = {name: stage.value for name, stage in STAGE_BY_TASK_NAME.items()}


def stage_of_task(task_name: str | None) -> str | None:
    """The stage a task name belongs to, or None for a task that is not a docflow stage."""
    return _STAGE_BY_TASK_NAME.get(task_name or "")


@dataclass(frozen=True)
class Message:
    """One broker message, decoded. ``raw`` is the exact list item (kept for LREM, never reported)."""

    location: str  # "waiting" | "unacked"
    key: str  # the Redis list, or the unacked delivery tag
    queue: str | None
    task_id: str | None = None
    task_name: str | None = None
    document_id: int | None = None
    delivered_at: float | None = None  # unacked_index score (epoch seconds)
    error: str | None = None  # why it could not be decoded
    raw: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def stage(self) -> str | None:
        return stage_of_task(self.task_name)


@dataclass(frozen=True)
class HeldTask:
    """A task a live worker holds (``inspect``): running, reserved (prefetched) or scheduled (ETA)."""

    worker: str
    state: str  # "active" | "reserved" | "scheduled"
    task_id: str | None
    task_name: str | None
    document_id: int | None

    @property
    def stage(self) -> str | None:
        return stage_of_task(self.task_name)


# The C scanner behind json.loads, called directly: json.loads adds encoding detection and whitespace
# regexes around it, a third of the decoding time of 100,000 messages (cProfile).
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # untyped


def _loads(raw: str | bytes | bytearray) -> Any:
    """``json.loads(raw)``, faster for the usual case; anything unusual (not UTF-8, whitespace around
    the document, invalid JSON) goes through json.loads itself, so errors read the same."""
    try:
        text = raw if isinstance(raw, str) else bytes(raw).decode()
        value, end = _SCAN(text, 0)
        if end == len(text):
            return value
    except (ValueError, StopIteration):  # StopIteration: nothing decodable at the start
        pass
    return json.loads(raw)


def decode_envelope(envelope: dict[str, Any]) -> tuple[str | None, str | None, int | None]:
    """(task id, task name, document id) of a kombu envelope carrying a Celery task (protocol 1 or 2)."""
    headers = envelope.get("headers") or {}
    properties = envelope.get("properties") or {}
    body = envelope.get("body")
    if properties.get("body_encoding") == "base64" and isinstance(body, str):
        body = base64.b64decode(body)
    payload = _loads(body) if isinstance(body, (str, bytes, bytearray)) else body
    if isinstance(payload, list):  # protocol 2: [args, kwargs, embed]; id and name in the headers
        args = payload[0] if payload else []
        task_id, task_name = headers.get("id"), headers.get("task")
    elif isinstance(payload, dict):  # protocol 1: everything in the body
        args = payload.get("args") or []
        task_id, task_name = payload.get("id", headers.get("id")), payload.get("task", headers.get("task"))
    else:
        raise ValueError(f"unexpected body type {type(payload).__name__}")
    document_id = _document_id(args)
    return task_id, task_name, document_id


def _document_id(args: Any) -> int | None:
    if isinstance(args, str):  # older workers report args as a repr
        try:
            args = ast.literal_eval(args)
        except (ValueError, SyntaxError):
            return None
    if isinstance(args, (list, tuple)) and args:
        try:
            return int(args[0])
        except (TypeError, ValueError):
            return None
    return None


def decode_waiting(raw: bytes, *, key: str, queue: str) -> Message:
    try:
        task_id, task_name, document_id = decode_envelope(_loads(raw))
        return Message("waiting", key, queue, task_id, task_name, document_id, raw=raw)
    except Exception as exc:  # noqa: BLE001 - an undecodable message is reported, never fatal
        return Message("waiting", key, queue, error=f"{type(exc).__name__}: {exc}"[:200], raw=raw)


def decode_unacked(tag: str, raw: bytes, *, delivered_at: float | None) -> Message:
    try:
        envelope, _exchange, routing_key = _loads(raw)
        task_id, task_name, document_id = decode_envelope(envelope)
        return Message("unacked", tag, routing_key, task_id, task_name, document_id, delivered_at)
    except Exception as exc:  # noqa: BLE001 - an unreachable broker is reported, not raised
        return Message("unacked", tag, None, delivered_at=delivered_at, error=f"{type(exc).__name__}: {exc}"[:200])


# -- gathering -----------------------------------------------------------------------------------------


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a million small objects are built.

    Every few hundred allocations Python's collector walks the young objects, and each full
    collection walks *all* of them: building 1,000,000 rows and 900,000 findings spent more time
    in collections than in the work. Nothing reconcile builds holds a reference cycle, so nothing
    is left uncollected; the collector runs again afterwards as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_broker(client: redis.Redis, *, queues: dict[str, str]) -> tuple[list[Message], dict[str, int]]:
    """Every waiting and unacked message, decoded, from one atomic pipeline (MULTI/EXEC)."""
    pipe = client.pipeline(transaction=True)
    keys: list[tuple[str, str]] = []
    for queue in queues.values():
        for key in queue_keys(queue):
            keys.append((queue, key))
            pipe.lrange(key, 0, -1)
    pipe.hgetall(UNACKED_HASH)
    pipe.zrange(UNACKED_INDEX, 0, -1, withscores=True)
    results = pipe.execute()
    messages: list[Message] = []
    lengths: dict[str, int] = dict.fromkeys(queues.values(), 0)
    with gc_paused():
        for (queue, key), items in zip(keys, results[: len(keys)], strict=True):
            lengths[queue] += len(items)
            messages.extend(decode_waiting(item, key=key, queue=queue) for item in items)
        unacked, index = results[len(keys)], results[len(keys) + 1]
        delivered = {_text(tag): score for tag, score in index}
        for tag, raw in unacked.items():
            tag = _text(tag)
            messages.append(decode_unacked(tag, raw, delivered_at=delivered.get(tag)))
    return messages, lengths


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def inspect_workers(
    *, timeout_s: float, app: Any = None
) -> tuple[list[str], list[HeldTask], str | None, dict[str, list[str]]]:
    """(responding workers, tasks they hold, error, queues each consumes). Costs about
    ``timeout_s``: the first call waits for every worker; the next ones go only to the workers
    that answered and return as soon as all of them have."""
    app = app or get_app()
    try:
        active = app.control.inspect(timeout=timeout_s).active() or {}
        workers = sorted(active)
        if not workers:
            return [], [], f"no worker answered inspect within {timeout_s:.1f}s", {}
        targeted = app.control.inspect(timeout=timeout_s, destination=workers)
        reserved = targeted.reserved() or {}
        scheduled = targeted.scheduled() or {}
        # Which node serves which queue: an operator reading "held by workers" on a multi-node
        # deployment needs to know whether an OCR node is among them.
        queues = queues_by_worker(targeted.active_queues())
    except Exception as exc:  # noqa: BLE001 - an unreachable broker is reported, not raised
        return [], [], f"inspect failed: {type(exc).__name__}: {exc}", {}
    held = []
    for state, replies in (("active", active), ("reserved", reserved), ("scheduled", scheduled)):
        for worker, tasks in replies.items():
            for task in tasks or []:
                request = task.get("request", task) if state == "scheduled" else task
                held.append(
                    HeldTask(
                        worker,
                        state,
                        request.get("id"),
                        request.get("name") or request.get("type"),
                        _document_id(request.get("args")),
                    )
                )
    return workers, held, None, queues
