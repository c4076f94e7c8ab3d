"""Stage queues of a test's own, which no worker consumes: what it publishes stays where it can be read."""

from __future__ import annotations

from kombu import Queue

from docflow.core.broker import get_app


def declare_queue(queue: str) -> None:
    """Let this process publish to a test-only queue (the app refuses undeclared queues)."""
    app = get_app()
    if queue not in app.amqp.queues:
        app.amqp.queues.add(Queue(queue))


def with_queues(settings, **queues):
    """``settings`` with the named stages routed to other queues (``ocr="test-…"``)."""
    return settings.model_copy(update={f"queue_{stage}": name for stage, name in queues.items()})
