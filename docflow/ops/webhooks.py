"""Telling other programs when a document is done: a webhook per project, deliveries with retries.

Events come from the documents' rows, not from the workers: every ``poll_s`` the deliverer turns
the terminal statuses (``graph_complete``, ``error_*``) that documents of a project with a webhook
reached since its watermark into delivery rows, and sends the deliveries that are due. Reading the
rows keeps the stages free of any extra work, and an event cannot be lost to a crash between a
stage's commit and a message: the row is the event. Rows are read ``settle_s`` behind the clock,
so a transaction that started earlier and commits later is still seen.

A delivery is claimed with a lease (its next attempt moved past the send's timeout) before it is
sent, so several API processes never send it at once; a delivery that is not answered 2xx is
tried again after an exponential, jittered backoff, and marked ``failed`` after ``max_attempts``.
Payloads carry ids, status and reason — never document content — and are signed
(:func:`docflow.core.webhooks.signature`).
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import threading
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import text
from sqlmodel import col, select

from docflow.core.db import session_scope
from docflow.core.settings import Settings
from docflow.core.status import TERMINAL_STATUSES
from docflow.core.webhooks import SIGNATURE_HEADER, Webhook, WebhookDelivery, signature

__all__ = [
    "WebhookDeliverer",
    "WebhookError",
    "collect_events",
    "deliver_due",
    "get_webhook",
    "list_deliveries",
    "remove_webhook",
    "set_webhook",
]

log = logging.getLogger(__name__)


class WebhookError(ValueError):
    """A webhook that cannot be set as asked (the reason says why)."""


def set_webhook(*, project_id: str, url: str, created_by: str) -> tuple[Webhook, str]:
    """Set (or replace) the project's webhook; returns it and its new secret, shown this once.

    Only events from now on are sent. Raises :class:`WebhookError` for a URL that is not http(s).
    """
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise WebhookError(f"a webhook URL is http:// or https:// with a host, not {url[:200]!r}")
    secret = secrets.token_urlsafe(32)
    with session_scope() as session:
        session.execute(
            text(
                "INSERT INTO webhooks (project_id, url, secret, enabled, created_by) "
                "VALUES (:project, :url, :secret, true, :by) "
                "ON CONFLICT (project_id) DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret, "
                "enabled = true, created_by = EXCLUDED.created_by, watermark = now(), created_at = now()"
            ),
            {"project": project_id, "url": url, "secret": secret, "by": created_by},
        )
        hook = session.exec(select(Webhook).where(Webhook.project_id == project_id)).one()
    return hook, secret


def get_webhook(project_id: str) -> Webhook | None:
    with session_scope() as session:
        return session.exec(select(Webhook).where(Webhook.project_id == project_id)).first()


def remove_webhook(project_id: str) -> bool:
    """Remove the project's webhook and its delivery log; False when it had none."""
    with session_scope() as session:
        hook = session.exec(select(Webhook).where(Webhook.project_id == project_id)).first()
        if hook is None:
            return False
        session.delete(hook)
    return True


def list_deliveries(project_id: str, *, limit: int = 100) -> list[WebhookDelivery]:
    """The project's latest deliveries, newest first."""
    with session_scope() as session:
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.project_id == project_id)
            .order_by(col(WebhookDelivery.id).desc())
            .limit(limit)
        )
        return list(session.exec(query))


# Terminal documents changed since each enabled webhook's watermark, up to now - settle, become
# deliveries (once: the natural key); then the watermarks move to that bound. One transaction,
# so now() is the same moment in both statements.
_COLLECT = text("""
INSERT INTO webhook_deliveries (webhook_id, document_id, document_uuid, project_id, event, reason,
                                occurred_at, state, attempts)
SELECT w.id, d.id, d.document_uuid::text, d.project_id, d.celery_status,
       CASE WHEN d.celery_status = 'graph_complete' THEN NULL ELSE d.error_message END,
       d.updated_at, 'pending', 0
FROM webhooks w JOIN source_documents d ON d.project_id = w.project_id
WHERE w.enabled AND d.celery_status = ANY(:terminal)
  AND d.updated_at > w.watermark AND d.updated_at <= now() - make_interval(secs => :settle)
ON CONFLICT ON CONSTRAINT uq_webhook_deliveries_event DO NOTHING
""")
_ADVANCE = text("""
UPDATE webhooks SET watermark = now() - make_interval(secs => :settle)
WHERE enabled AND watermark < now() - make_interval(secs => :settle)
""")


def collect_events(*, settle_s: float) -> int:
    """Record the new events of every enabled webhook as pending deliveries; how many were new."""
    with session_scope() as session:
        params = {"terminal": sorted(s.value for s in TERMINAL_STATUSES), "settle": settle_s}
        found = session.connection().execute(_COLLECT, params).rowcount
        session.execute(_ADVANCE, {"settle": settle_s})
    return int(found or 0)


_CLAIM = text("""
UPDATE webhook_deliveries dl SET next_attempt_at = now() + make_interval(secs => :lease)
FROM webhooks w
WHERE dl.id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= now()
                ORDER BY id LIMIT :limit FOR UPDATE SKIP LOCKED)
  AND w.id = dl.webhook_id
RETURNING dl.id, dl.attempts, dl.document_id, dl.document_uuid, dl.project_id, dl.event, dl.reason,
          dl.occurred_at, w.url, w.secret
""")
_DELIVERED = text("""
UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, response_status = :code,
       last_error = NULL, delivered_at = now()
WHERE id = :id
""")
_NOT_DELIVERED = text("""
UPDATE webhook_deliveries SET attempts = attempts + 1, response_status = :code, last_error = :error,
       state = CASE WHEN attempts + 1 >= :max_attempts THEN 'failed' ELSE 'pending' END,
       next_attempt_at = now() + make_interval(secs => :wait)
WHERE id = :id
""")


@dataclass(frozen=True)
class _Due:
    id: int
    attempts: int
    url: str
    secret: str
    body: bytes
    event: str


def _payload(row: Any) -> bytes:
    return json.dumps(
        {
            "delivery_id": row.id,
            "event": row.event,
            "document_id": row.document_id,
            "document_uuid": row.document_uuid,
            "project_id": row.project_id,
            "status": row.event,
            "reason": row.reason,
            "occurred_at": row.occurred_at.isoformat(),
        },
        sort_keys=True,
    ).encode()


def backoff_s(attempts: int, *, base_s: float, cap_s: float = 600.0) -> float:
    """How long to wait after the ``attempts``-th failed attempt: doubling, capped, ±50% jitter
    (so receivers that came back are not hit by every sender at once)."""
    return min(cap_s, base_s * 2 ** max(0, attempts - 1)) * random.uniform(0.5, 1.5)


def deliver_due(settings: Settings, *, client: httpx.Client, limit: int = 20) -> int:
    """Send up to ``limit`` due deliveries and record each outcome; how many were sent."""
    timeout = settings.webhook_timeout_s
    with session_scope() as session:
        rows = session.execute(_CLAIM, {"lease": timeout * 2 + 5, "limit": limit}).all()
    due = [_Due(r.id, r.attempts, r.url, r.secret, _payload(r), r.event) for r in rows]
    for delivery in due:
        code, error = _send(client, delivery, timeout=timeout)
        with session_scope() as session:
            if code is not None and 200 <= code < 300:
                session.execute(_DELIVERED, {"id": delivery.id, "code": code})
            else:
                wait = backoff_s(delivery.attempts + 1, base_s=settings.webhook_backoff_s)
                session.execute(
                    _NOT_DELIVERED,
                    {
                        "id": delivery.id,
                        "code": code,
                        "error": error,
                        "wait": wait,
                        "max_attempts": settings.webhook_max_attempts,
                    },
                )
    return len(due)


def _send(client: httpx.Client, delivery: _Due, *, timeout: float) -> tuple[int | None, str | None]:
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(delivery.secret, delivery.body),
        "X-Docflow-Event": delivery.event,
        "X-Docflow-Delivery": str(delivery.id),
    }
    try:
        response = client.post(delivery.url, content=delivery.body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"answered {response.status_code}"


class WebhookDeliverer:
    """The loop that collects events and sends deliveries, in a thread of the API process."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-deliverer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._settings.webhook_timeout_s + 5)

    def _run(self) -> None:
        # Redirects are not followed: a webhook answers where it was set, or not at all.
        with httpx.Client(follow_redirects=False) as client:
            while not self._stop.is_set():
                try:
                    collect_events(settle_s=self._settings.webhook_settle_s)
                    while deliver_due(self._settings, client=client) and not self._stop.is_set():
                        pass
                except Exception:  # the loop outlives a database that is down for a while
                    log.exception("webhook deliveries: will try again")
                self._stop.wait(self._settings.webhook_poll_s)
