"""Delete documents with everything derived from them, and keep an audit record of each deletion.

For each document, in one PostgreSQL transaction that holds the document's row:

1. its Neo4j subgraph goes (its node, chunks and edges; an entity only when no chunk of any other
   document mentions it any more);
2. its stored original goes, when no other document points at the same object;
3. its rows go (the extraction, chunks, mentions, relationships and stage runs cascade), then the
   canonical entities no other document mentions; its intake-ledger rows are marked ``deleted``;
4. an audit row records who deleted what and when (ids, name, hash, counts — never content).

Any failure rolls the transaction back, so a retry finds the row and finishes the job (every step
is idempotent). Deleting a document in flight is safe: its pending messages find no row and are
dropped, and a stage at work finds the row gone when it writes its result (it holds the same row
first) and drops it — a deleted document is never re-driven by reconcile, which only acts on rows.

**A deleted file that appears again in intake:** the intake ledger keeps the file's entry, marked
``deleted``; an unchanged file is therefore *not* taken again (a deletion is a decision, and a
re-sweep must not undo it). A changed file (new size or modification time) is a new version and
is taken; ``docflow submit`` and the API's upload always register what they are given.

**An archive goes with its members.** Deleting a ZIP's document deletes the documents its files
became (and theirs, for archives inside it), each the same way and each with its audit row, members
first. A member the archive's stage registered after the selection was read is found under the
archive's lock (the stage registers members only while holding the same row), and deleted first.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Row, delete, exists, func, select, update

from docflow.core import documents
from docflow.core.db import session_scope
from docflow.core.graph import GraphStore
from docflow.core.models import (
    CanonicalEntity,
    Chunk,
    DocumentDeletion,
    EntityMention,
    EntityRelationship,
    IntakeFile,
    SourceDocument,
    StageRun,
    table_of,
)
from docflow.core.settings import Settings
from docflow.core.storage import ObjectStorage
from docflow.ops.lifecycle.selection import Selection, members_of, select_documents

_DOCS = table_of(SourceDocument)
_MENTIONS = table_of(EntityMention)
_RELATIONSHIPS = table_of(EntityRelationship)
_ENTITIES = table_of(CanonicalEntity)


@dataclass
class DeleteOutcome:
    document_id: int | None
    document_uuid: str | None
    name: str
    status_before: str | None
    action: str  # deleted | would delete | missing | failed
    reason: str | None = None
    removed: dict[str, int | bool] = field(default_factory=dict)


@dataclass
class DeleteReport:
    selection: str
    deleted_by: str
    outcomes: list[DeleteOutcome] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.action] = counts.get(outcome.action, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "selection": self.selection,
            "deleted_by": self.deleted_by,
            "counts": self.counts(),
            "documents": [asdict(o) for o in self.outcomes],
        }

    def markdown(self) -> str:
        lines = [
            f"# Delete: {self.selection}",
            "",
            f"By {self.deleted_by}: "
            + (", ".join(f"{k} {v}" for k, v in sorted(self.counts().items())) or "nothing selected"),
            "",
        ]
        for o in self.outcomes:
            detail = ", ".join(f"{k}={v}" for k, v in o.removed.items()) or (o.reason or "")
            lines.append(f"- {o.action}: document {o.document_id or '—'} {o.name} ({detail})")
        return "\n".join(lines) + "\n"


class HasMembers(Exception):
    """The archive being deleted has members not deleted yet (registered after the selection)."""


def _count(session: Any, model: type, document_id: int) -> int:
    table = table_of(model)
    return int(session.scalar(select(func.count()).select_from(table).where(table.c.document_id == document_id)) or 0)


def delete_document(
    row: Row[Any], *, settings: Settings, deleted_by: str, reason: str | None, graph: GraphStore, storage: ObjectStorage
) -> DeleteOutcome:
    """Delete one selected document (see the module docstring for the order and the guarantees)."""
    outcome = DeleteOutcome(row.id, str(row.document_uuid), row.original_file_name, row.celery_status, "deleted")
    with session_scope() as session:
        locked = documents.lock_document(session, document_id=row.id)
        if locked is None:
            outcome.action, outcome.reason = "missing", "already deleted"
            return outcome
        if session.scalar(select(func.count()).select_from(_DOCS).where(_DOCS.c.parent_document_id == row.id)):
            raise HasMembers(row.id)
        entity_ids = list(
            session.scalars(select(_MENTIONS.c.canonical_entity_id).where(_MENTIONS.c.document_id == row.id).distinct())
        )
        removed: dict[str, int | bool] = {
            "chunks": _count(session, Chunk, row.id),
            "mentions": _count(session, EntityMention, row.id),
            "relationships": _count(session, EntityRelationship, row.id),
            "stage_runs": _count(session, StageRun, row.id),
        }
        removed.update(graph.delete_document(str(locked.document_uuid)))
        shared = locked.object_key and session.scalar(
            select(func.count()).select_from(_DOCS).where(_DOCS.c.object_key == locked.object_key, _DOCS.c.id != row.id)
        )
        if locked.object_key and not shared:
            storage.remove(key=locked.object_key)
        removed["original_removed"] = bool(locked.object_key and not shared)
        session.execute(
            update(table_of(IntakeFile))
            .where(table_of(IntakeFile).c.document_id == row.id)
            .values(outcome="deleted", reason=f"document deleted by {deleted_by}")
        )
        session.execute(delete(_DOCS).where(_DOCS.c.id == row.id))
        if entity_ids:
            orphaned = session.execute(
                delete(_ENTITIES)
                .where(
                    _ENTITIES.c.id.in_(entity_ids),
                    ~exists().where(_MENTIONS.c.canonical_entity_id == _ENTITIES.c.id),
                    ~exists().where(_RELATIONSHIPS.c.source_entity_id == _ENTITIES.c.id),
                    ~exists().where(_RELATIONSHIPS.c.target_entity_id == _ENTITIES.c.id),
                )
                .returning(_ENTITIES.c.id)
            ).all()
            removed["canonical_entities"] = len(orphaned)
        session.add(
            DocumentDeletion(
                document_uuid=locked.document_uuid,
                document_id=row.id,
                project_id=locked.project_id,
                original_file_name=locked.original_file_name,
                sha256=locked.sha256,
                status_at_deletion=locked.celery_status,
                deleted_by=deleted_by[:255],
                reason=reason,
                removed=removed,
            )
        )
    outcome.removed = removed
    return outcome


def delete_documents(
    selection: Selection, *, settings: Settings, deleted_by: str, reason: str | None = None, dry_run: bool = False
) -> DeleteReport:
    """Delete every selected document; one failure is reported and does not stop the others.

    ``dry_run``: only say what would go (``would delete``: the selected documents and their
    archives' members), changing nothing.
    """
    selected = select_documents(selection, settings)
    report = DeleteReport(selection.describe(), deleted_by)
    report.outcomes += [DeleteOutcome(None, None, ref, None, "missing", "no such document") for ref in selected.missing]
    selected_ids = {row.id for row in selected.rows}
    members = [row for row in members_of(selected_ids) if row.id not in selected_ids]
    if dry_run:
        report.outcomes += [
            DeleteOutcome(row.id, str(row.document_uuid), row.original_file_name, row.celery_status, "would delete")
            for row in [*members, *selected.rows]
        ]
        return report
    storage = ObjectStorage(settings)
    done: set[int] = set()
    with GraphStore(settings) as graph:
        for row in [*members, *selected.rows]:
            if row.id in done:
                continue
            try:
                report.outcomes += _delete_with_members(
                    row, settings=settings, deleted_by=deleted_by, reason=reason, graph=graph, storage=storage
                )
                done.update(o.document_id for o in report.outcomes if o.document_id is not None)
            except Exception as exc:  # noqa: BLE001 - reported per document; the transaction rolled back, a retry finishes it
                report.outcomes.append(
                    DeleteOutcome(
                        row.id,
                        str(row.document_uuid),
                        row.original_file_name,
                        row.celery_status,
                        "failed",
                        f"{type(exc).__name__}: {exc}"[:300],
                    )
                )
    return report


def _delete_with_members(
    row: Row[Any], *, settings: Settings, deleted_by: str, reason: str | None, graph: GraphStore, storage: ObjectStorage
) -> list[DeleteOutcome]:
    """Delete ``row``; when its members outran the selection (:class:`HasMembers`), them first."""
    outcomes: list[DeleteOutcome] = []
    for _attempt in range(3):
        try:
            outcomes.append(
                delete_document(
                    row, settings=settings, deleted_by=deleted_by, reason=reason, graph=graph, storage=storage
                )
            )
            return outcomes
        except HasMembers:
            for member in members_of([row.id]):
                outcomes.append(
                    delete_document(
                        member, settings=settings, deleted_by=deleted_by, reason=reason, graph=graph, storage=storage
                    )
                )
    raise RuntimeError(f"document {row.id} kept gaining members while it was being deleted")
