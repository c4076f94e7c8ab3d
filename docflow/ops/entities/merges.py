"""Reviewed merges of a project's entities: merge two, split one back out, list them.

A merge records, in ``entity_merges``, that one entity of a project is another (who asked, when,
why). The entity stage applies the project's live merges when it saves a document's entities
(:func:`tasks.steps.entities.apply_merges`), so reprocessing keeps them; PostgreSQL's mentions and
relationships, the Neo4j graph and the export follow from what that stage saved. A merge or a split
therefore re-drives, from the entity stage, every document that mentions the entities involved
(through :func:`docflow.ops.lifecycle.reprocess.reprocess`, forced: the current work of a document
already past the entity stage is dropped and redone), plus every document of the project whose
entity stage is running right now (it may have read the merges before the change). Documents that
have not reached the entity stage yet need nothing: they read the merges when they get there.

A split ends a live merge (``split_by``, ``split_at``) and keeps the row, so the history of who
merged and split what stays readable (:func:`list_merges` with ``include_split``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from docflow.core.db import session_scope
from docflow.core.entity_names import canonical_key
from docflow.core.models import CanonicalEntity, EntityMention, EntityMerge, SourceDocument, table_of
from docflow.core.settings import Settings
from docflow.core.status import Stage, Status
from docflow.ops.entities.records import (
    REFERENCE,
    EntityError,
    EntityNotFound,
    EntityRecord,
    MergeRefused,
    find_entity,
)
from docflow.ops.lifecycle.reprocess import reprocess
from docflow.ops.lifecycle.selection import Selection

__all__ = ["MergeRecord", "MergeResult", "list_merges", "merge_entities", "split_entity"]

_ENTITIES = table_of(CanonicalEntity)
_MENTIONS = table_of(EntityMention)
_MERGES = table_of(EntityMerge)
_DOCS = table_of(SourceDocument)

# Statuses before the entity stage's work: such a document reads the merges when it gets there.
_BEFORE_ENTITY = frozenset(
    {
        Status.PENDING,
        Status.OCR_QUEUED,
        Status.OCR_PROCESSING,
        Status.OCR_COMPLETE,
        Status.TEXT_PROCESSING,
        Status.TEXT_COMPLETE,
        Status.ERROR_OCR,
        Status.ERROR_TEXT,
    }
)


@dataclass(frozen=True)
class MergeRecord:
    """One reviewed merge (live while ``split_at`` is None)."""

    id: int
    project_id: str
    from_key: str
    from_label: str
    from_name: str
    into_key: str
    into_label: str
    into_name: str
    merged_by: str
    merged_at: datetime
    reason: str | None
    split_by: str | None = None
    split_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("merged_at", "split_at"):
            data[name] = data[name].isoformat() if data[name] else None
        return data


@dataclass
class MergeResult:
    """What a merge or a split did: the record, and the documents re-driven from the entity stage."""

    action: str  # merged | split
    merge: MergeRecord
    redriven: list[int] = field(default_factory=list)  # document ids queued again from the entity stage
    waiting: list[int] = field(default_factory=list)  # not at the entity stage yet: will apply it then
    refused: dict[int, str] = field(default_factory=dict)  # document id -> why it was not re-driven
    publish_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "merge": self.merge.to_dict(),
            "redriven": self.redriven,
            "waiting": self.waiting,
            "refused": {str(k): v for k, v in self.refused.items()},
            "publish_error": self.publish_error,
        }


_MERGE_COLUMNS = (
    _MERGES.c.id,
    _MERGES.c.project_id,
    _MERGES.c.from_key,
    _MERGES.c.from_label,
    _MERGES.c.into_key,
    _MERGES.c.into_label,
    _MERGES.c.merged_by,
    _MERGES.c.merged_at,
    _MERGES.c.reason,
    _MERGES.c.split_by,
    _MERGES.c.split_at,
)


def _records(session: Any, condition: Any) -> list[MergeRecord]:
    rows = session.execute(select(*_MERGE_COLUMNS).where(condition).order_by(_MERGES.c.id)).all()
    names: dict[tuple[str, str, str], str] = {}
    wanted = {(r.project_id, r.from_key, r.from_label) for r in rows} | {
        (r.project_id, r.into_key, r.into_label) for r in rows
    }
    if wanted:
        for project, key, label, name in session.execute(
            select(
                _ENTITIES.c.project_id, _ENTITIES.c.normalized_key, _ENTITIES.c.label, _ENTITIES.c.display_name
            ).where(
                _ENTITIES.c.project_id.in_({w[0] for w in wanted}),
                _ENTITIES.c.normalized_key.in_({w[1] for w in wanted}),
            )
        ):
            names[(project, key, label)] = name
    return [
        MergeRecord(
            id=r.id,
            project_id=r.project_id,
            from_key=r.from_key,
            from_label=r.from_label,
            from_name=names.get((r.project_id, r.from_key, r.from_label), r.from_key),
            into_key=r.into_key,
            into_label=r.into_label,
            into_name=names.get((r.project_id, r.into_key, r.into_label), r.into_key),
            merged_by=r.merged_by,
            merged_at=r.merged_at,
            reason=r.reason,
            split_by=r.split_by,
            split_at=r.split_at,
        )
        for r in rows
    ]


def list_merges(*, project_id: str, include_split: bool = False) -> list[MergeRecord]:
    """The project's merges in the order they were made (live ones only, unless ``include_split``)."""
    condition = _MERGES.c.project_id == project_id
    if not include_split:
        condition &= _MERGES.c.split_at.is_(None)
    with session_scope() as session:
        return _records(session, condition)


def _live_targets(session: Any, project_id: str) -> dict[tuple[str, str], tuple[str, str]]:
    rows = session.execute(
        select(_MERGES.c.from_key, _MERGES.c.from_label, _MERGES.c.into_key, _MERGES.c.into_label).where(
            _MERGES.c.project_id == project_id, _MERGES.c.split_at.is_(None)
        )
    ).all()
    return {(fk, fl): (ik, il) for fk, fl, ik, il in rows}


def merge_entities(
    *, project_id: str, source: str, target: str, merged_by: str, settings: Settings, reason: str | None = None
) -> MergeResult:
    """Merge the entity ``source`` into ``target`` (references as :func:`find_entity` reads them).

    Refused (:class:`EntityError`): the same entity twice, a source already merged into another
    entity (split it first), a merge that would close a cycle. Asking again for a merge that is
    live changes nothing and returns it (no document is re-driven). The merge is recorded in one
    transaction; then the documents concerned are re-driven from the entity stage (see the module
    docstring).
    """
    source_entity = find_entity(project_id=project_id, reference=source)
    target_entity = find_entity(project_id=project_id, reference=target)
    if source_entity.id == target_entity.id:
        raise EntityError(f"{source_entity.label}:{source_entity.name} and {target!r} are the same entity")
    with session_scope() as session:
        live = _live_targets(session, project_id)
        current = live.get((source_entity.key, source_entity.label))
        if current == (target_entity.key, target_entity.label):
            existing = _records(
                session,
                (_MERGES.c.project_id == project_id)
                & (_MERGES.c.from_key == source_entity.key)
                & (_MERGES.c.from_label == source_entity.label)
                & _MERGES.c.split_at.is_(None),
            )
            return MergeResult("merged", existing[0])
        if current is not None:
            raise MergeRefused(
                f"{source_entity.label}:{source_entity.name} is already merged into {current[1]}:{current[0]}: "
                "split it first"
            )
        node: tuple[str, str] | None = (target_entity.key, target_entity.label)
        seen = set()
        while node is not None and node not in seen:
            if node == (source_entity.key, source_entity.label):
                raise MergeRefused(
                    f"{target_entity.name} is already merged into {source_entity.name}: that would be a cycle"
                )
            seen.add(node)
            node = live.get(node)
        merge_id = _insert_merge(
            session,
            project_id=project_id,
            source=source_entity,
            target=target_entity,
            merged_by=merged_by,
            reason=reason,
        )
        record = _records(session, _MERGES.c.id == merge_id)[0]
    result = MergeResult("merged", record)
    _redrive(result, project_id=project_id, entity_ids=[source_entity.id], by=merged_by, settings=settings)
    return result


def _insert_merge(
    session: Any, *, project_id: str, source: EntityRecord, target: EntityRecord, merged_by: str, reason: str | None
) -> int:
    try:
        with session.begin_nested():
            merge_id: int = session.execute(
                insert(_MERGES)
                .values(
                    project_id=project_id,
                    from_key=source.key,
                    from_label=source.label,
                    into_key=target.key,
                    into_label=target.label,
                    merged_by=merged_by,
                    reason=reason,
                )
                .returning(_MERGES.c.id)
            ).scalar_one()
    except IntegrityError:
        # The live-merge index (uq_entity_merges_live_source): another merge of it committed first.
        raise MergeRefused(f"{source.label}:{source.name} was merged by someone else meanwhile: look again") from None
    return merge_id


def split_entity(*, project_id: str, source: str, split_by: str, settings: Settings) -> MergeResult:
    """End the live merge of the entity ``source`` (it is its own entity again) and re-drive the
    documents of the entity it had been merged into."""
    with session_scope() as session:
        reference = source.strip()
        match = REFERENCE.match(reference)
        if not reference or match is None:
            raise EntityError("an entity reference is empty")
        label, name = match.group("label"), match.group("name")
        condition = (
            (_MERGES.c.project_id == project_id)
            & (_MERGES.c.from_key == canonical_key(name))
            & _MERGES.c.split_at.is_(None)
        )
        if label:
            condition &= _MERGES.c.from_label == label
        records = _records(session, condition)
        if not records:
            raise EntityNotFound(f"{name!r} is not merged into anything in project {project_id}")
        if len(records) > 1:
            which = ", ".join(f"{r.from_label}:{r.from_name}" for r in records)
            raise EntityError(f"{name!r} names several merged entities: say which — {which}")
        record = records[0]
        session.execute(update(_MERGES).where(_MERGES.c.id == record.id).values(split_by=split_by, split_at=func.now()))
        into_ids = (
            session.execute(
                select(_ENTITIES.c.id).where(
                    _ENTITIES.c.project_id == project_id,
                    _ENTITIES.c.normalized_key == record.into_key,
                    _ENTITIES.c.label == record.into_label,
                )
            )
            .scalars()
            .all()
        )
        record = _records(session, _MERGES.c.id == record.id)[0]
    result = MergeResult("split", record)
    _redrive(result, project_id=project_id, entity_ids=list(into_ids), by=split_by, settings=settings)
    return result


def _redrive(result: MergeResult, *, project_id: str, entity_ids: list[int], by: str, settings: Settings) -> None:
    """Re-drive from the entity stage the documents mentioning ``entity_ids`` and those whose entity
    stage is running now; documents not there yet are only noted (they will read the merges)."""
    with session_scope() as session:
        mentioning = select(_MENTIONS.c.document_id).where(_MENTIONS.c.canonical_entity_id.in_(entity_ids))
        rows = session.execute(
            select(_DOCS.c.id, _DOCS.c.celery_status)
            .where(
                _DOCS.c.project_id == project_id,
                _DOCS.c.id.in_(mentioning) | (_DOCS.c.celery_status == Status.ENTITY_PROCESSING.value),
            )
            .order_by(_DOCS.c.id)
        ).all()
    due = [doc_id for doc_id, status in rows if Status(status) not in _BEFORE_ENTITY]
    result.waiting = [doc_id for doc_id, status in rows if Status(status) in _BEFORE_ENTITY]
    if not due:
        return
    why = f"entity merge #{result.merge.id} {result.action}: {result.merge.from_name} -> {result.merge.into_name}"
    report = reprocess(
        Selection(documents=tuple(str(i) for i in due)),
        from_stage=Stage.ENTITY,
        settings=settings,
        requested_by=by,
        reason=why,
        force=True,
    )
    result.redriven = report.queued_ids
    result.refused = {
        o.document_id: o.reason or o.action for o in report.outcomes if o.action != "queued" and o.document_id
    }
    result.publish_error = report.publish_error
