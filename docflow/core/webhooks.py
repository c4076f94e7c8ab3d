"""Webhooks: where a project's events are sent, each delivery's record, and how a payload is signed.

A project has at most one webhook (its URL and a secret shared with the receiver). A *delivery* is
one event for one document: the document reached ``graph_complete`` or an ``error_*`` status at a
moment (``occurred_at``: the row's ``updated_at`` then). Its natural key is (webhook, document,
event, moment), so finding the same event twice records it once, and a document that completes
again after a reprocess is a new event. A delivery holds ids, status and reason, never content.

The receiver checks ``X-Docflow-Signature: sha256=<hex>``, the HMAC-SHA256 of the raw body with the
webhook's secret (:func:`signature`), and may drop a delivery id it has seen (retries resend it).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Integer, Text, UniqueConstraint, func
from sqlmodel import Field, SQLModel

__all__ = ["SIGNATURE_HEADER", "Webhook", "WebhookDelivery", "signature"]

SIGNATURE_HEADER = "X-Docflow-Signature"


def _ts(*, nullable: bool = True, default_now: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable, server_default=func.now() if default_now else None)


class Webhook(SQLModel, table=True):
    """A project's webhook. ``watermark``: events up to this moment have been turned into deliveries
    (it starts when the webhook is set: earlier events are not sent)."""

    __tablename__ = "webhooks"

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(max_length=128, unique=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    secret: str = Field(max_length=128)
    enabled: bool = True
    watermark: datetime | None = Field(default=None, sa_column=_ts(nullable=False, default_now=True))
    created_at: datetime | None = Field(default=None, sa_column=_ts(nullable=False, default_now=True))
    created_by: str = Field(max_length=128)


class WebhookDelivery(SQLModel, table=True):
    """One event sent (or being sent) to a webhook, with every attempt's outcome."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "document_id", "event", "occurred_at", name="uq_webhook_deliveries_event"),
    )

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(
        sa_column=Column(Integer, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    # No foreign key: the record of what was sent outlives a deleted document.
    document_id: int
    document_uuid: str = Field(max_length=36)
    project_id: str = Field(max_length=128)
    event: str = Field(max_length=32)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    occurred_at: datetime = Field(sa_column=_ts(nullable=False))
    # pending -> delivered | failed (after the last attempt)
    state: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_column=_ts(nullable=False, default_now=True))
    response_status: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime | None = Field(default=None, sa_column=_ts(nullable=False, default_now=True))
    delivered_at: datetime | None = Field(default=None, sa_column=_ts())


def signature(secret: str, body: bytes) -> str:
    """The value of :data:`SIGNATURE_HEADER` for ``body``: ``sha256=`` and the HMAC's hex digest."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
