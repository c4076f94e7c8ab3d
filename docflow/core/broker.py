"""The broker side of Celery, as producers and operators need it: configuration, the app, publishing
by task name, and what Redis holds.

This module owns the Celery configuration (every setting with its reason), a lazily created app
that imports no domain code, and :func:`publish`/:func:`publish_many`, which send stage messages
by their stable task name (:data:`docflow.core.status.TASK_NAMES`). Workers build on the same app
(``tasks/celery_app.py`` adds the stage tasks and the worker start-up hooks); producers — the CLI,
intake, reconcile, the runner chaining the next stage — never import worker code.

Kombu's Redis transport keeps a queue's waiting messages in a list named after the queue, plus one
sibling list per priority step (``<queue>\\x06\\x16<priority>``) that ``LLEN <queue>`` misses;
delivered-but-unacknowledged messages sit in the ``unacked`` hash. The helpers below read them in
one round trip.
"""

from __future__ import annotations

import functools
import ssl
import uuid
from typing import Any

import redis
from celery import Celery
from kombu import Queue
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from docflow.core.errors import TransientError
from docflow.core.settings import Settings, get_settings
from docflow.core.status import Stage

PRIORITY_SEP = "\x06\x16"
PRIORITY_STEPS = (0, 3, 6, 9)  # kombu's default priority_steps
UNACKED_HASH = "unacked"
UNACKED_INDEX = "unacked_index"

# Publishing gives up after a bounded time when Redis is down (~3.5 s); the row already says
# "queued", so reconcile re-drives what was never sent (commit-then-publish).
_PUBLISH_RETRY = {"max_retries": 3, "interval_start": 0, "interval_step": 0.5, "interval_max": 2}


def _celery_tls(settings: Settings) -> dict[str, Any]:
    """Celery's TLS settings for the broker and the result backend (none without a CA)."""
    if settings.tls_ca_file is None:
        return {}
    # The same verification redis-py clients get: the server's certificate must chain to the CA.
    options = {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_ca_certs": str(settings.tls_ca_file)}
    return {"broker_use_ssl": options, "redis_backend_use_ssl": options}


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration of DESIGN.md's reliability rules; each setting says why."""
    visibility_timeout = settings.broker_visibility_timeout_s
    transport_options = {
        # Longer than the longest hard time limit: Redis must never hand a running task to a
        # second worker. Recovery of work lost with a dead worker is bounded by this value plus
        # the restore sweep below; reconcile finds it sooner (STUCK) and can re-drive it.
        "visibility_timeout": visibility_timeout,
        # How often a live worker sweeps the unacked hash for expired messages (default ~100 s);
        # once a minute keeps recovery prompt without scanning Redis constantly.
        "unacked_restore_interval": 6,
        "unacked_restore_throttle": 10,
        # A publish or poll on a dead connection must fail, not hang forever.
        "socket_timeout": settings.redis_socket_timeout_s,
        "socket_connect_timeout": min(settings.redis_socket_timeout_s, 5.0),
        "socket_keepalive": True,
        # Detects half-open BRPOP connections (Redis restarted behind a NAT or proxy).
        "health_check_interval": settings.redis_health_check_s,
        # The producer gives up after a bounded time when Redis is down; the document stays
        # ocr_queued in PostgreSQL and reconcile re-drives it (commit-then-publish).
        **_PUBLISH_RETRY,
    }
    tls = _celery_tls(settings)
    return {
        **tls,
        "broker_url": settings.broker_url,
        "result_backend": settings.celery_result_backend,
        # Same options for the broker and the result backend connection, applied consistently.
        "broker_transport_options": transport_options,
        "result_backend_transport_options": {"visibility_timeout": visibility_timeout},
        "redis_socket_timeout": settings.redis_socket_timeout_s,
        "redis_socket_connect_timeout": min(settings.redis_socket_timeout_s, 5.0),
        # Messages are ids, never blobs, and JSON keeps them readable by reconcile and operators.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        # Ack only after the task finished: a worker that dies mid-task loses nothing.
        "task_acks_late": True,
        # ...and a child killed by the OS (OOM, SIGKILL) puts its message back too. The poison
        # guard (max_deliveries, counted in stage_runs) stops a message that kills every worker.
        "task_reject_on_worker_lost": True,
        # A failed (raised) task is still acked: failures are recorded as statuses, not replayed.
        "task_acks_on_failure_or_timeout": True,
        # OCR tasks are long: a worker reserves one message at a time, so idle workers get work.
        "worker_prefetch_multiplier": 1,
        # Results are for watching, not for storage (PostgreSQL holds the truth).
        "result_expires": 3600,
        # Workers recycle their children to bound memory growth from OCR and spaCy.
        "worker_max_tasks_per_child": settings.worker_max_tasks_per_child,
        "worker_max_memory_per_child": settings.worker_max_memory_per_child_kb,
        # The status row is the truth and nobody reads stored results; opt in for AsyncResult users.
        "task_ignore_result": not settings.store_task_results,
        # When results are stored, record "started" too, so queued and running can be told apart.
        "task_track_started": True,
        # Events only on request (Flower turns them on at run time): one Redis publish each.
        "worker_send_task_events": settings.worker_task_events,
        # No "task-sent" event per publish: it doubles the Redis writes of every submission, and
        # the queued time is already recorded in stage_runs.
        "task_send_sent_event": False,
        # One queue per stage, routed by explicit task name.
        "task_queues": [Queue(settings.queue_for(stage)) for stage in Stage],
        "task_default_queue": settings.queue_ocr,
        "task_routes": {stage.task_name: {"queue": settings.queue_for(stage)} for stage in Stage},
        # Each stage's soft limit raises inside the task (a clear error status); the hard limit
        # kills the child. Set here, by task name, so the task modules read no settings at import.
        "task_annotations": {
            stage.task_name: dict(zip(("soft_time_limit", "time_limit"), settings.time_limits(stage), strict=True))
            for stage in Stage
        },
        # No implicit queue creation: a typo in a route must fail loudly.
        "task_create_missing_queues": False,
        # The fallback limits for anything that is not a stage task.
        "task_soft_time_limit": settings.text_soft_time_limit_s,
        "task_time_limit": settings.text_time_limit_s,
        # Workers started before Redis keep retrying instead of exiting.
        "broker_connection_retry_on_startup": True,
        # A command Redis refuses (MISCONF when its AOF disk is full, READONLY on a demoted
        # replica) is a "channel" error: without this the worker's main process dies with
        # "Unrecoverable error" on the first failed ack and consumes nothing after space returns.
        # With it the consumer reconnects like after a connection loss (throttled by Celery).
        "broker_channel_error_retry": True,
        # A lost broker connection cancels running tasks' acks; they are redelivered, not lost.
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        # Publishing confirms with Redis before returning (no fire-and-forget).
        "task_publish_retry": True,
        "task_publish_retry_policy": _PUBLISH_RETRY,
        "enable_utc": True,
        "worker_hijack_root_logger": False,
    }


def create_app(settings: Settings | None = None) -> Celery:
    """A Celery app configured from ``settings``; it registers no tasks (producers send by name)."""
    app = Celery("docflow")
    app.conf.update(celery_config(settings or get_settings()))
    return app


@functools.cache
def get_app() -> Celery:
    """The process's Celery app, created on first use (tests call ``get_app.cache_clear()``)."""
    return create_app()


def new_task_id() -> str:
    return str(uuid.uuid4())


def publish(*, stage: Stage, document_id: int, task_id: str, settings: Settings | None = None) -> None:
    """Send one stage message (the document id only). :class:`TransientError` when Redis is unreachable."""
    publish_many(stage=stage, task_ids={document_id: task_id}, settings=settings)


# Redis commands per pipelined round trip of publish_many (one LPUSH per message).
PUBLISH_BATCH = 500


def publish_many(*, stage: Stage, task_ids: dict[int, str], settings: Settings | None = None) -> None:
    """Send one message per document (id → task id) over one producer connection.

    The messages are Celery's own (``send_task``), buffered by kombu's publish batch and written in
    one pipelined Redis round trip per ``PUBLISH_BATCH`` messages instead of one each (intake sweep:
    publishing was 39% of its profiled main thread, one round trip and one Redis client per message).

    Raises :class:`TransientError` when Redis cannot be reached; the rows were committed first, so
    reconcile (or the next intake sweep) re-drives whatever was not sent. Within a failed batch
    delivery is uncertain either way; a message that did go out is handled like a redelivery (a
    no-op once its stage is done, an idempotent run otherwise).
    """
    if not task_ids:
        return
    settings = settings or get_settings()
    app = get_app()
    queue = settings.queue_for(stage)
    try:
        with app.producer_or_acquire() as producer, producer.batch(max_size=PUBLISH_BATCH):
            for document_id, task_id in task_ids.items():
                app.send_task(
                    stage.task_name,
                    args=[document_id],
                    task_id=task_id,
                    queue=queue,
                    producer=producer,
                    # Nothing waits on the result here: without this, Celery's Redis result backend
                    # subscribes to each task's result channel on send (and unsubscribes when the
                    # AsyncResult is dropped): two Redis commands per message for nothing.
                    ignore_result=not settings.store_task_results,
                )
    except Exception as exc:  # noqa: BLE001 - kombu raises many connection error types; classified here, once
        # kombu's BatchPublishError only says "delivery is uncertain"; what Redis said is its cause
        # (MISCONF on a full AOF disk, a refused connection): the operator needs that.
        said = exc.__cause__ or exc
        raise TransientError(f"could not publish {stage.task_name}: {type(said).__name__}: {said}") from None


# -- what Redis holds ------------------------------------------------------------------------------


def redis_client(settings: Settings) -> redis.Redis:
    """A client for the broker's Redis with the configured timeouts (never one without).

    The retries are bounded too: redis-py's default (10 retries, each waiting the full socket
    timeout) turned one command on a silent Redis into a ~2-minute stall (measured through a
    black-holed proxy), and the stage runner's best-effort monitor write waited that long.
    """
    return redis.Redis.from_url(
        settings.broker_url,
        **settings.redis_tls_options,
        socket_timeout=settings.redis_socket_timeout_s,
        socket_connect_timeout=min(settings.redis_socket_timeout_s, 5.0),
        socket_keepalive=True,
        retry=Retry(ExponentialWithJitterBackoff(base=0.1, cap=1.0), settings.redis_retries),
    )


def queue_keys(queue: str) -> list[str]:
    """Every Redis list that can hold waiting messages of ``queue``."""
    return [queue if step == 0 else f"{queue}{PRIORITY_SEP}{step}" for step in PRIORITY_STEPS]


def queue_lengths(client: redis.Redis, queues: list[str]) -> dict[str, int]:
    """Waiting messages per queue, priority siblings included, in one round trip."""
    pipe = client.pipeline(transaction=False)
    for queue in queues:
        for key in queue_keys(queue):
            pipe.llen(key)
    counts = iter(pipe.execute())
    return {queue: sum(next(counts) for _ in PRIORITY_STEPS) for queue in queues}


def queued_total(settings: Settings) -> int:
    """Messages waiting in all stage queues (intake's backpressure and the health check)."""
    return sum(queue_lengths(redis_client(settings), list(settings.queues.values())).values())


def unacked_count(client: redis.Redis) -> int:
    return int(client.hlen(UNACKED_HASH))


# -- live workers ----------------------------------------------------------------------------------


def ping_workers(*, timeout_s: float) -> list[str]:
    """Names of the workers that answer a ping within ``timeout_s``."""
    replies = get_app().control.ping(timeout=timeout_s) or []
    return sorted(name for reply in replies for name in reply)


def workers_online(*, timeout_s: float, destination: list[str] | None = None) -> dict[str, list[str]]:
    """Worker name -> queues it consumes (``inspect active_queues``); empty when none answers."""
    return queues_by_worker(get_app().control.inspect(timeout=timeout_s, destination=destination).active_queues())


def queues_by_worker(replies: dict[str, Any] | None) -> dict[str, list[str]]:
    """An ``inspect active_queues`` reply as worker name -> the names of the queues it consumes."""
    return {name: sorted(q["name"] for q in queues or []) for name, queues in sorted((replies or {}).items())}
