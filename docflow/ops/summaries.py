"""Human-readable summaries of what the pipeline produced for documents."""

from __future__ import annotations

import uuid as uuid_module

from sqlalchemy import func
from sqlmodel import col, select

from docflow.core.db import session_scope
from docflow.core.graph import GraphStore
from docflow.core.models import Chunk, EntityMention, EntityRelationship, SourceDocument, StageRun
from docflow.core.settings import get_settings


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


def status_counts() -> list[str]:
    with session_scope() as session:
        rows = session.execute(
            select(SourceDocument.celery_status, func.count())
            .group_by(SourceDocument.celery_status)
            .order_by(SourceDocument.celery_status)
        ).all()
    total = sum(count for _, count in rows)
    return [f"{status:<20} {count}" for status, count in rows] + [f"{'total':<20} {total}"]


def document_history(document: str) -> list[str]:
    with session_scope() as session:
        if document.isdigit():
            row = session.get(SourceDocument, int(document))
        else:
            row = session.execute(
                select(SourceDocument).where(SourceDocument.document_uuid == uuid_module.UUID(document))
            ).scalar_one_or_none()
        if row is None:
            return [f"no document {document}"]
        runs = (
            session.execute(select(StageRun).where(StageRun.document_id == row.id).order_by(col(StageRun.id)))
            .scalars()
            .all()
        )
    lines = [
        f"document {row.id} {row.document_uuid} {row.original_file_name}",
        f"  status {row.celery_status} ({row.initial_processing_status}), task {row.celery_task_id}",
        f"  project {row.project_id}, sha256 {row.sha256}, {row.size_bytes} bytes, type {row.file_type}",
    ]
    if row.error_message:
        lines.append(f"  error: {row.error_message}")
    for run in runs:
        took = ""
        if run.started_at and run.finished_at:
            took = f" {(run.finished_at - run.started_at).total_seconds():.2f}s"
        lines.append(
            f"  {run.stage:<7} attempt {run.attempt} {run.outcome:<10}{took} worker={run.worker_hostname or '-'}"
            f" deliveries={run.deliveries}{' — ' + run.error if run.error else ''}"
        )
    return lines
