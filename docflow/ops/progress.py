"""Following documents to a terminal status by polling their rows (the truth, not Redis)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from sqlmodel import col, select

from docflow.core.db import session_scope
from docflow.core.models import SourceDocument
from docflow.core.status import is_terminal


def current_statuses(document_ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
    ids = list(document_ids)
    with session_scope() as session:
        rows = session.execute(
            select(SourceDocument.id, SourceDocument.celery_status, SourceDocument.error_message).where(
                col(SourceDocument.id).in_(ids)
            )
        ).all()
    return {row[0]: (row[1], row[2]) for row in rows}


def wait_for_documents(
    document_ids: Iterable[int],
    *,
    timeout_s: float,
    poll_s: float = 0.5,
    on_change: Callable[[int, str, str | None], None] | None = None,
) -> dict[int, str]:
    """Poll until every document is terminal or ``timeout_s`` passes; return the last statuses.

    ``on_change(document_id, status, error_message)`` is called for every status seen to change.
    """
    pending = set(document_ids)
    seen: dict[int, str] = {}
    deadline = time.monotonic() + timeout_s
    while True:
        for document_id, (status, error) in current_statuses(pending).items():
            if seen.get(document_id) != status:
                seen[document_id] = status
                if on_change:
                    on_change(document_id, status, error)
            if is_terminal(status):
                pending.discard(document_id)
        if not pending or time.monotonic() >= deadline:
            return seen
        time.sleep(poll_s)
