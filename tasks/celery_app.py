"""The Celery app: broker, queues, routes and the reliability settings of DESIGN.md.

Every setting says why it is set. The cross-setting invariants (visibility timeout above every
hard limit, late acks guarded against poison messages) are asserted by tests/unit/test_celery_config.py.
"""

from __future__ import annotations

from celery import Celery
from celery.signals import worker_process_init
from kombu import Queue

from docflow.settings import STAGES, Settings, get_settings
from docflow.submit import TASK_NAMES as STAGE_TASK_NAMES

TASK_NAMES = {stage.value: name for stage, name in STAGE_TASK_NAMES.items()}


def celery_config(settings: Settings) -> dict:
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
        "health_check_interval": 25,
        # The producer gives up after a bounded time when Redis is down; the document stays
        # ocr_queued in PostgreSQL and reconcile re-drives it (commit-then-publish).
        "max_retries": 3,
        "interval_start": 0,
        "interval_step": 0.5,
        "interval_max": 2,
    }
    return {
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
        "task_queues": [Queue(settings.queue_for(stage)) for stage in STAGES],
        "task_default_queue": settings.queue_ocr,
        "task_routes": {TASK_NAMES[stage]: {"queue": settings.queue_for(stage)} for stage in STAGES},
        # No implicit queue creation: a typo in a route must fail loudly.
        "task_create_missing_queues": False,
        # Time limits per stage are set on each task; these are the fallback for anything else.
        "task_soft_time_limit": settings.text_soft_time_limit_s,
        "task_time_limit": settings.text_time_limit_s,
        # Workers started before Redis keep retrying instead of exiting.
        "broker_connection_retry_on_startup": True,
        # A lost broker connection cancels running tasks' acks; they are redelivered, not lost.
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        # Publishing confirms with Redis before returning (no fire-and-forget).
        "task_publish_retry": True,
        "task_publish_retry_policy": {"max_retries": 3, "interval_start": 0, "interval_step": 0.5, "interval_max": 2},
        # The stage tasks, imported by workers at start-up (not at import time: no import cycle).
        "imports": ["tasks.stages"],
        "enable_utc": True,
        "worker_hijack_root_logger": False,
    }


def create_app(settings: Settings | None = None) -> Celery:
    app = Celery("docflow")
    app.conf.update(celery_config(settings or get_settings()))
    return app


app = create_app()


@worker_process_init.connect
def _fresh_connections_after_fork(**_kwargs) -> None:
    # A prefork child must not reuse the parent's database sockets.
    from docflow.db import reset_engine

    reset_engine()


@worker_process_init.connect
def _bound_child_memory(**_kwargs) -> None:
    # Only the child is capped: the main process must survive to requeue the child's message.
    import resource

    limit_mb = get_settings().worker_child_address_space_mb
    if limit_mb:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = limit_mb * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)  # never loosen a cap the operator already set
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
