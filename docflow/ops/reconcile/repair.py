"""Repairing what reconcile found: re-drive LOST/STUCK documents, remove waiting ORPHAN messages."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from sqlalchemy import Engine

from docflow.core.broker import redis_client
from docflow.core.db import fetch_all
from docflow.core.settings import Settings
from docflow.core.status import Status
from docflow.ops.reconcile.classify import Classification, Kind, location_of
from docflow.ops.reconcile.snapshot import TERMINAL, Snapshot
from docflow.ops.submit import redrive_document


@dataclass(frozen=True)
class Action:
    action: str  # "redrive" | "remove_message" | "skip"
    kind: str  # the finding it answers
    document_id: int | None
    ok: bool
    detail: str
    new_task_id: str | None = None


def repair(
    snapshot: Snapshot,
    classification: Classification,
    *,
    settings: Settings,
    max_repairs: int,
    client: redis.Redis | None = None,
    engine: Engine | None = None,
) -> list[Action]:
    """Re-drive LOST/STUCK documents (at most ``max_repairs``) and remove waiting ORPHAN messages."""
    actions: list[Action] = []
    redrives = [f for f in classification.findings if f.kind in (Kind.LOST.value, Kind.STUCK.value)]
    seen: set[int] = set()
    redriven = deferred = 0
    current = _current_rows(
        {f.document_id for f in redrives}
        | {f.document_id for f in classification.findings if f.kind == Kind.ORPHAN.value and f.document_id},
        engine=engine,
    )
    for found in redrives:
        if found.document_id is None or found.document_id in seen:
            continue
        seen.add(found.document_id)
        if found.kind == Kind.STUCK.value and not snapshot.workers:
            actions.append(
                Action(
                    "skip",
                    found.kind,
                    found.document_id,
                    False,
                    "no worker answered inspect: cannot tell stuck from busy",
                )
            )
            continue
        if redriven >= max_repairs:
            deferred += 1
            continue
        now = current.get(found.document_id)
        if now is None or now[0] != found.status or now[1] != found.task_id:
            actions.append(
                Action(
                    "skip",
                    found.kind,
                    found.document_id,
                    False,
                    f"moved on since the snapshot (now {now[0] if now else 'gone'})",
                )
            )
            continue
        result = redrive_document(
            document_id=found.document_id,
            settings=settings,
            expected_task_id=found.task_id,
            reason=f"reconcile: {found.kind}: {found.detail}"[:500],
        )
        redriven += 1
        actions.append(
            Action(
                "redrive",
                found.kind,
                found.document_id,
                result.success,
                f"re-driven from {found.status}" if result.success else (result.error or "failed"),
                result.task_id,
            )
        )
    # LOST rows counted but not listed (the snapshot lists the first ``limit``) wait for a later
    # run as well: each run re-drives from the oldest ids, and re-driven documents leave the list.
    unlisted = classification.unlisted.get(Kind.LOST.value, 0)
    if deferred or unlisted:
        left = [f"max_repairs ({max_repairs}) reached: {deferred} more"] if deferred else []
        left += [f"{unlisted} LOST not listed in this snapshot"] if unlisted else []
        actions.append(Action("skip", "LOST/STUCK", None, False, "; ".join(left) + " left for the next run"))

    orphans = [f for f in classification.findings if f.kind == Kind.ORPHAN.value]
    if orphans:
        client = client or redis_client(settings)
        raw_by_location = {location_of(m): m for m in snapshot.messages if m.location == "waiting"}
        for found in orphans:
            where = found.locations[0]
            message = raw_by_location.get(where) if where.startswith("waiting:") else None
            if message is None:
                actions.append(
                    Action("skip", found.kind, found.document_id, True, "unacked: belongs to a delivery; reported only")
                )
                continue
            now = current.get(found.document_id) if found.document_id is not None else None
            if now is not None and now[0] not in TERMINAL and now[0] != Status.PENDING.value:
                actions.append(
                    Action("skip", found.kind, found.document_id, False, f"document is {now[0]} now; message kept")
                )
                continue
            removed = int(client.lrem(message.key, 1, message.raw or b""))  # type: ignore[arg-type]  # redis accepts bytes values
            actions.append(
                Action(
                    "remove_message",
                    found.kind,
                    found.document_id,
                    removed == 1,
                    f"removed task {message.task_id} from {message.key!r}"
                    if removed
                    else f"task {message.task_id} was no longer in {message.key!r}",
                )
            )
    return actions


def _current_rows(ids: set[int | None], *, engine: Engine | None = None) -> dict[int, tuple[str, str | None]]:
    """(status, task id) of each document now: a repair acts only on what has not moved on."""
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    sql = "SELECT id, celery_status, celery_task_id FROM source_documents WHERE id = ANY(%(ids)s)"
    return {i: (s, t) for i, s, t in fetch_all(sql, {"ids": wanted}, engine=engine)}
