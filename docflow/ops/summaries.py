"""Human-readable summaries of what the pipeline produced for documents."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from docflow.core.db import session_scope
from docflow.core.graph import GraphStore
from docflow.core.models import Chunk, EntityMention, EntityRelationship, SourceDocument, StageRun
from docflow.core.settings import get_settings
from docflow.core.storage import sha256_file
from docflow.ops.lifecycle.selection import parse_reference


def document_summary(document_ids: list[int], *, names: dict[int, str] | None = None) -> list[str]:
    """One line per document (status, chunks, entities, graph counts) and a total line."""
    names = names or {}
    lines, totals = [], {"chunks": 0, "entities": 0, "nodes": 0, "edges": 0}
    with session_scope() as session, GraphStore(get_settings()) as graph:
        for document_id in document_ids:
            document = session.get(SourceDocument, document_id)
            if document is None:
                lines.append(f"{names.get(document_id, str(document_id)):<24} (no such document)")
                continue
            chunks = (
                session.scalar(select(func.count()).select_from(Chunk).where(Chunk.document_id == document_id)) or 0
            )
            entities = (
                session.scalar(
                    select(func.count(func.distinct(EntityMention.canonical_entity_id))).where(
                        EntityMention.document_id == document_id
                    )
                )
                or 0
            )
            relationships = session.scalar(
                select(func.count())
                .select_from(EntityRelationship)
                .where(EntityRelationship.document_id == document_id)
            )
            g = graph.document_counts(str(document.document_uuid))
            nodes = 1 + g["chunks"] + g["entities"] if g["chunks"] else 0
            edges = g["chunks"] + max(g["chunks"] - 1, 0) + g["mentions"] + g["co_occurs"] if g["chunks"] else 0
            error = (
                f" — {document.error_message}"
                if document.error_message and document.celery_status.startswith("error")
                else ""
            )
            lines.append(
                f"{names.get(document_id, document.original_file_name):<24} {document.celery_status:<16} "
                f"pages={document.page_count or 0:<3} chunks={chunks:<3} entities={entities:<3} "
                f"relationships={relationships:<3} graph nodes={nodes:<4} edges={edges}{error}"
            )
            totals["chunks"] += chunks
            totals["entities"] += entities
            totals["nodes"] += nodes
            totals["edges"] += edges
    lines.append(
        f"{'total':<24} {len(document_ids)} documents, {totals['chunks']} chunks, "
        f"{totals['entities']} entities, graph {totals['nodes']} nodes / {totals['edges']} edges"
    )
    return lines


def documents_for_files(paths: list[Path], *, project_id: str) -> dict[int, str]:
    """Document id -> file name, for files registered in ``project_id`` (matched by content hash)."""
    by_hash = {sha256_file(path): path.name for path in paths}
    with session_scope() as session:
        rows = session.exec(
            select(SourceDocument.id, SourceDocument.sha256).where(
                SourceDocument.project_id == project_id, col(SourceDocument.sha256).in_(list(by_hash))
            )
        ).all()
    return {int(document_id): by_hash[digest] for document_id, digest in sorted(rows) if document_id is not None}


def status_by_count() -> dict[str, int]:
    """Documents per ``celery_status``."""
    with session_scope() as session:
        rows = session.execute(
            select(SourceDocument.celery_status, func.count())
            .group_by(SourceDocument.celery_status)
            .order_by(SourceDocument.celery_status)
        ).all()
    return {status: int(count) for status, count in rows}


def status_counts() -> list[str]:
    counts = status_by_count()
    lines = [f"{status:<20} {count}" for status, count in counts.items()]
    return lines + [f"{'total':<20} {sum(counts.values())}"]


def document_detail(reference: str) -> dict[str, Any] | None:
    """One document's row and stage history as plain data (the API's and ``docflow status``'s view)."""
    parsed = parse_reference(reference)
    with session_scope() as session:
        if isinstance(parsed, int):
            row = session.get(SourceDocument, parsed)
        else:
            row = session.execute(
                select(SourceDocument).where(SourceDocument.document_uuid == parsed)
            ).scalar_one_or_none()
        if row is None:
            return None
        runs = (
            session.execute(select(StageRun).where(StageRun.document_id == row.id).order_by(col(StageRun.id)))
            .scalars()
            .all()
        )
        chunks = session.scalar(select(func.count()).select_from(Chunk).where(Chunk.document_id == row.id)) or 0
        entities = (
            session.scalar(
                select(func.count(func.distinct(EntityMention.canonical_entity_id))).where(
                    EntityMention.document_id == row.id
                )
            )
            or 0
        )
        parent, members = _archive_links(session, row)
    return {
        "id": row.id,
        "uuid": str(row.document_uuid),
        "name": row.original_file_name,
        "project_id": row.project_id,
        "status": row.celery_status,
        "coarse_status": row.initial_processing_status,
        "task_id": row.celery_task_id,
        "error": row.error_message,
        "sha256": row.sha256,
        "size_bytes": row.size_bytes,
        "file_type": row.file_type,
        "mime_type": row.mime_type,
        "page_count": row.page_count,
        "language": row.language,
        "pipeline_versions": row.pipeline_versions,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "chunks": int(chunks),
        "entities": int(entities),
        # An archive and what came in it: the parent a member came from, the members an archive gave.
        "parent": parent,
        "member_path": row.member_path,
        "members": members,
        "history": [
            {
                "stage": run.stage,
                "attempt": run.attempt,
                "outcome": run.outcome,
                "task_id": run.celery_task_id,
                "worker": run.worker_hostname,
                "deliveries": run.deliveries,
                "queued_at": _iso(run.queued_at),
                "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at),
                "seconds": round((run.finished_at - run.started_at).total_seconds(), 3)
                if run.started_at and run.finished_at
                else None,
                "error": run.error,
            }
            for run in runs
        ],
    }


MAX_MEMBERS_SHOWN = 500


def _archive_links(session: Any, row: SourceDocument) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The archive ``row`` came from (id, name) and the members it gave (id, name, path, status)."""
    parent = None
    if row.parent_document_id is not None:
        found = session.get(SourceDocument, row.parent_document_id)
        if found is not None:
            parent = {"id": found.id, "name": found.original_file_name, "status": found.celery_status}
    members = session.execute(
        select(
            SourceDocument.id,
            SourceDocument.original_file_name,
            SourceDocument.member_path,
            SourceDocument.celery_status,
        )
        .where(SourceDocument.parent_document_id == row.id)
        .order_by(col(SourceDocument.id))
        .limit(MAX_MEMBERS_SHOWN)
    ).all()
    return parent, [
        {"id": member_id, "name": name, "member_path": path, "status": status}
        for member_id, name, path, status in members
    ]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def document_history(document: str) -> list[str]:
    """``docflow status <id|uuid>``: the document and its stage history as lines."""
    detail = document_detail(document)
    if detail is None:
        return [f"no document {document}"]
    lines = [
        f"document {detail['id']} {detail['uuid']} {detail['name']}",
        f"  status {detail['status']} ({detail['coarse_status']}), task {detail['task_id']}",
        f"  project {detail['project_id']}, sha256 {detail['sha256']}, {detail['size_bytes']} bytes, "
        f"type {detail['file_type']}",
    ]
    if detail["parent"]:
        lines.append(f"  from archive {detail['parent']['id']} {detail['parent']['name']} ({detail['member_path']})")
    if detail["members"]:
        lines.append(
            f"  archive of {len(detail['members'])} document(s): " + ", ".join(str(m["id"]) for m in detail["members"])
        )
    if detail["error"]:
        lines.append(f"  error: {detail['error']}")
    for run in detail["history"]:
        took = f" {run['seconds']:.2f}s" if run["seconds"] is not None else ""
        lines.append(
            f"  {run['stage']:<7} attempt {run['attempt']} {run['outcome']:<10}{took} worker={run['worker'] or '-'}"
            f" deliveries={run['deliveries']}{' — ' + run['error'] if run['error'] else ''}"
        )
    return lines
