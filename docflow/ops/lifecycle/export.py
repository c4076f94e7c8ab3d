"""Export documents as JSON Lines, one document per line, in constant memory; import the graph back.

A line holds the document's metadata, its text, its chunks with page spans, its entities (each
with its graph key and its mentions), its relationships and the reviewed merges into its entities
(who merged what, when, why) — everything the graph stage writes,
so the graph part round-trips: :func:`import_graph` (``docflow import-graph FILE``) writes each
line's subgraph with the same statement the graph stage uses, and an empty Neo4j ends up with the
same nodes and edges. Format 2 (``docflow-export/2``) adds to each typed relationship its
confidence, properties and every place that states it (``evidence``); lines of format 1 (kind and
weight only) still import. Documents are read page by page in id order (keyset pagination, no open
cursor), one document's rows at a time, so memory stays flat however large the export.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import ColumnElement, select, tuple_

from docflow.core import results
from docflow.core.db import session_scope
from docflow.core.graph import DocumentGraph, GraphStore, entity_key
from docflow.core.models import (
    CanonicalEntity,
    DocumentExtraction,
    EntityMention,
    EntityMerge,
    EntityRelationship,
    SourceDocument,
    table_of,
)
from docflow.core.relationship_evidence import evidence_of
from docflow.core.settings import Settings
from docflow.ops.lifecycle.selection import Selection, SelectionError, parse_reference

FORMAT = "docflow-export/2"
READABLE_FORMATS = frozenset({"docflow-export/1", FORMAT})  # what import-graph accepts
PAGE = 200

_DOCS = table_of(SourceDocument)
_MENTIONS = table_of(EntityMention)
_ENTITIES = table_of(CanonicalEntity)
_RELATIONSHIPS = table_of(EntityRelationship)
_EXTRACTIONS = table_of(DocumentExtraction)
_MERGES = table_of(EntityMerge)


@dataclass
class ExportSummary:
    documents: int = 0
    chunks: int = 0
    entities: int = 0
    relationships: int = 0


def document_record(session: Any, document: Any) -> dict[str, Any]:
    """One document as an export line (a plain dict)."""
    doc_id = document.id
    chunks = results.load_chunks(session, document_id=doc_id)
    mentions = session.execute(
        select(
            _MENTIONS.c.canonical_entity_id,
            _MENTIONS.c.chunk_index,
            _MENTIONS.c.text,
            _MENTIONS.c.char_start,
            _MENTIONS.c.char_end,
            _ENTITIES.c.project_id,
            _ENTITIES.c.label,
            _ENTITIES.c.normalized_key,
            _ENTITIES.c.display_name,
        )
        .join(_ENTITIES, _ENTITIES.c.id == _MENTIONS.c.canonical_entity_id)
        .where(_MENTIONS.c.document_id == doc_id)
        .order_by(_MENTIONS.c.chunk_index, _MENTIONS.c.char_start)
    ).all()
    relationships = session.execute(
        select(
            _RELATIONSHIPS.c.source_entity_id,
            _RELATIONSHIPS.c.target_entity_id,
            _RELATIONSHIPS.c.kind,
            _RELATIONSHIPS.c.weight,
            _RELATIONSHIPS.c.id,
            _RELATIONSHIPS.c.confidence,
            _RELATIONSHIPS.c.properties,
        )
        .where(_RELATIONSHIPS.c.document_id == doc_id)
        .order_by(_RELATIONSHIPS.c.id)
    ).all()
    evidence = evidence_of(session, relationship_ids=[r.id for r in relationships if r.confidence is not None])
    elements_json = session.scalar(select(_EXTRACTIONS.c.elements_json).where(_EXTRACTIONS.c.document_id == doc_id))
    text = "\n\n".join(e["text"] for e in json.loads(elements_json)["elements"]) if elements_json else ""
    entities: dict[int, dict[str, Any]] = {}
    for m in mentions:
        entity = entities.setdefault(
            m.canonical_entity_id,
            {
                "key": entity_key(project_id=m.project_id, label=m.label, normalized_key=m.normalized_key),
                "name": m.display_name,
                "label": m.label,
                "mentions": [],
            },
        )
        entity["mentions"].append(
            {"chunk_index": m.chunk_index, "text": m.text, "char_start": m.char_start, "char_end": m.char_end}
        )
    # Relationships may name entities this document does not mention (not today, but the schema allows it).
    missing = {e for r in relationships for e in (r.source_entity_id, r.target_entity_id)} - set(entities)
    if missing:
        for row in session.execute(select(_ENTITIES).where(_ENTITIES.c.id.in_(missing))).all():
            entities[row.id] = {
                "key": entity_key(project_id=row.project_id, label=row.label, normalized_key=row.normalized_key),
                "name": row.display_name,
                "label": row.label,
                "mentions": [],
            }
    return {
        "format": FORMAT,
        "merges": _merges_into(session, document.project_id, entities.values()),
        "document": {
            "id": doc_id,
            "uuid": str(document.document_uuid),
            "project_id": document.project_id,
            "name": document.original_file_name,
            "sha256": document.sha256,
            "size_bytes": document.size_bytes,
            "file_type": document.file_type,
            "mime_type": document.mime_type,
            "page_count": document.page_count,
            "language": document.language,
            "status": document.celery_status,
            "created_at": document.created_at.isoformat() if document.created_at else None,
            "pipeline_versions": document.pipeline_versions or {},
            # An archive's member: the archive's document and where in it the file sat.
            "parent": _parent(session, document),
        },
        "text": text,
        "chunks": [
            {
                "index": c.chunk_index,
                "text": c.text,
                "page_start": c.page_start,
                "page_end": c.page_end,
                "char_start": c.char_start,
                "char_end": c.char_end,
            }
            for c in chunks
        ],
        "entities": [entities[key] for key in sorted(entities)],
        "relationships": [_relationship_record(r, entities, evidence) for r in relationships],
    }


def _relationship_record(row: Any, entities: dict[int, dict[str, Any]], evidence: dict[int, list]) -> dict[str, Any]:
    record = {
        "source": entities[row.source_entity_id]["key"],
        "target": entities[row.target_entity_id]["key"],
        "kind": row.kind,
        "weight": row.weight,
    }
    if row.id in evidence:  # a typed relationship
        record.update(confidence=row.confidence, properties=row.properties or {}, evidence=evidence[row.id])
    return record


def _parent(session: Any, document: Any) -> dict[str, Any] | None:
    if document.parent_document_id is None:
        return None
    parent = session.execute(
        select(_DOCS.c.id, _DOCS.c.document_uuid, _DOCS.c.original_file_name).where(
            _DOCS.c.id == document.parent_document_id
        )
    ).one_or_none()
    if parent is None:
        return None
    return {
        "id": parent.id,
        "uuid": str(parent.document_uuid),
        "name": parent.original_file_name,
        "member_path": document.member_path,
    }


def _merges_into(session: Any, project_id: str, entities: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reviewed merges (``docflow entities merge``) into the document's entities: who, when, why."""
    into = {tuple(e["key"].split("|", 2)[1:]) for e in entities}  # (label, normalized key)
    if not into:
        return []
    rows = session.execute(
        select(_MERGES)
        .where(
            _MERGES.c.project_id == project_id,
            _MERGES.c.split_at.is_(None),
            tuple_(_MERGES.c.into_label, _MERGES.c.into_key).in_(sorted(into)),
        )
        .order_by(_MERGES.c.id)
    ).all()
    return [
        {
            "from": entity_key(project_id=project_id, label=r.from_label, normalized_key=r.from_key),
            "into": entity_key(project_id=project_id, label=r.into_label, normalized_key=r.into_key),
            "merged_by": r.merged_by,
            "merged_at": r.merged_at.isoformat(),
            "reason": r.reason,
        }
        for r in rows
    ]


def _document_ids(selection: Selection) -> tuple[list[int], list[Any]]:
    ids = [ref for ref in map(parse_reference, selection.documents) if isinstance(ref, int)]
    uuids = [ref for ref in map(parse_reference, selection.documents) if not isinstance(ref, int)]
    return ids, uuids


def iter_records(selection: Selection) -> Iterator[dict[str, Any]]:
    """Every selected document's export record, in id order, one page of rows at a time."""
    if not (selection.documents or selection.project_id or selection.statuses):
        raise SelectionError("export a --project, documents by id, or a --status")
    ids, uuids = _document_ids(selection)
    conditions: list[ColumnElement[bool]] = []
    if ids or uuids:
        conditions.append(_DOCS.c.id.in_(ids) | _DOCS.c.document_uuid.in_(uuids))
    if selection.project_id:
        conditions.append(_DOCS.c.project_id == selection.project_id)
    if selection.statuses:
        conditions.append(_DOCS.c.celery_status.in_(selection.statuses))
    after = 0
    while True:
        with session_scope() as session:
            page = session.execute(
                select(_DOCS).where(*conditions, _DOCS.c.id > after).order_by(_DOCS.c.id).limit(PAGE)
            ).all()
            for document in page:
                yield document_record(session, document)
        if len(page) < PAGE:
            return
        after = page[-1].id


def export_document(reference: str) -> dict[str, Any] | None:
    """One document's export record, by id or uuid; None when there is no such document."""
    parsed = parse_reference(reference)
    condition = _DOCS.c.id == parsed if isinstance(parsed, int) else _DOCS.c.document_uuid == parsed
    with session_scope() as session:
        row = session.execute(select(_DOCS).where(condition)).one_or_none()
        return document_record(session, row) if row is not None else None


def export_documents(selection: Selection, *, out: TextIO) -> ExportSummary:
    """Write the selected documents to ``out`` as JSON Lines; what was written."""
    summary = ExportSummary()
    for record in iter_records(selection):
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        summary.documents += 1
        summary.chunks += len(record["chunks"])
        summary.entities += len(record["entities"])
        summary.relationships += len(record["relationships"])
    return summary


def record_graph(record: dict[str, Any]) -> DocumentGraph:
    """The subgraph an export line describes, exactly as the graph stage builds it."""
    document = record["document"]
    counts = Counter((m["chunk_index"], e["key"]) for e in record["entities"] for m in e["mentions"])
    return DocumentGraph(
        document_uuid=document["uuid"],
        project_id=document["project_id"],
        name=document["name"],
        file_type=document["file_type"],
        chunks=[
            {"index": c["index"], "text": c["text"], "page_start": c["page_start"], "page_end": c["page_end"]}
            for c in record["chunks"]
        ],
        entities=[
            {"key": e["key"], "name": e["name"], "label": e["label"]} for e in record["entities"] if e["mentions"]
        ],
        mentions=[{"chunk_index": chunk, "entity_key": key, "count": n} for (chunk, key), n in sorted(counts.items())],
        relationships=[_graph_relationship(r) for r in record["relationships"]],
    )


def _graph_relationship(record: dict[str, Any]) -> dict[str, Any]:
    relationship = {
        "source_key": record["source"],
        "target_key": record["target"],
        "weight": record["weight"],
        "kind": record.get("kind"),
    }
    if record.get("evidence"):  # format 2, typed: the graph carries the first place
        relationship.update(
            confidence=record.get("confidence"),
            properties=record.get("properties") or {},
            evidence=record["evidence"][0],
        )
    return relationship


def import_graph(lines: Iterable[str], *, settings: Settings) -> ExportSummary:
    """Write each export line's subgraph into Neo4j (idempotent: a document's subgraph is replaced)."""
    summary = ExportSummary()
    with GraphStore(settings) as graph:
        graph.ensure_constraints()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"line {number} is not JSON: {exc}") from None
            if record.get("format") not in READABLE_FORMATS:
                raise ValueError(
                    f"line {number} is not a docflow export record ({', '.join(sorted(READABLE_FORMATS))})"
                )
            counts = graph.replace_document(record_graph(record))
            summary.documents += 1
            summary.chunks += counts["chunks"]
            summary.entities += counts["entities"]
            summary.relationships += counts["relationships"]
    return summary
