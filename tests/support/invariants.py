"""The invariants every fault scenario must leave intact, checked against the real stores.

* every accepted document ends in exactly one terminal status (none left in flight);
* no duplicate rows: chunks, mentions, relationships, stage runs per (task, attempt), entities;
* no duplicate objects: one original per (project, sha256) key and nothing under other keys;
* no duplicate graph nodes or relationships for the documents;
* stage attempts within the configured bound;
* what the faulted run produced equals what a clean run produces (per-document counts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text

from docflow.core.db import session_scope
from docflow.core.graph import GraphStore
from docflow.core.settings import Settings
from docflow.core.status import TERMINAL_STATUSES
from docflow.core.storage import ObjectStorage


@dataclass
class DocumentOutcome:
    document_id: int
    document_uuid: str
    sha256: str
    status: str
    chunks: int
    mentions: int
    relationships: int
    graph_chunks: int
    graph_mentions: int
    graph_entities: int
    graph_co_occurs: int
    graph_typed: int
    attempts: dict[str, int]

    def fingerprint(self) -> tuple:
        """What must be equal between a clean and a faulted run of the same bytes."""
        return (
            self.status,
            self.chunks,
            self.mentions,
            self.relationships,
            self.graph_chunks,
            self.graph_mentions,
            self.graph_entities,
            self.graph_co_occurs,
            self.graph_typed,
        )


@dataclass
class InvariantReport:
    documents: dict[str, DocumentOutcome] = field(default_factory=dict)  # by sha256
    violations: list[str] = field(default_factory=list)

    @property
    def completed(self) -> int:
        return sum(d.status == "graph_complete" for d in self.documents.values())

    @property
    def lost(self) -> int:
        return sum(d.status not in {s.value for s in TERMINAL_STATUSES} for d in self.documents.values())

    def assert_ok(self) -> None:
        assert not self.violations, "invariants violated:\n  " + "\n  ".join(self.violations)


def _scalar_rows(session, sql: str, **params) -> list:
    return list(session.execute(text(sql), params).all())


def check_project(
    settings: Settings, project_id: str, *, expected_documents: int | None = None, max_attempts: int | None = None
) -> InvariantReport:
    report = InvariantReport()
    bound = max_attempts if max_attempts is not None else (settings.retry_max_retries + 1) * settings.max_deliveries
    with session_scope() as session:
        docs = _scalar_rows(
            session,
            """
            SELECT d.id, d.document_uuid::text, d.sha256, d.celery_status,
                   d.ocr_attempts, d.text_attempts, d.entity_attempts, d.graph_attempts,
                   (SELECT count(*) FROM chunks c WHERE c.document_id = d.id),
                   (SELECT count(*) FROM entity_mentions m WHERE m.document_id = d.id),
                   (SELECT count(*) FROM entity_relationships r WHERE r.document_id = d.id)
            FROM source_documents d WHERE d.project_id = :project ORDER BY d.id""",
            project=project_id,
        )
        duplicate_checks = {
            "duplicate documents per sha256": """
                SELECT sha256 FROM source_documents WHERE project_id = :project GROUP BY sha256 HAVING count(*) > 1""",
            "duplicate chunks": """
                SELECT c.document_id, c.chunk_index FROM chunks c JOIN source_documents d ON d.id = c.document_id
                WHERE d.project_id = :project GROUP BY 1, 2 HAVING count(*) > 1""",
            "duplicate stage runs": """
                SELECT s.celery_task_id, s.attempt FROM stage_runs s JOIN source_documents d ON d.id = s.document_id
                WHERE d.project_id = :project GROUP BY 1, 2 HAVING count(*) > 1""",
            "duplicate canonical entities": """
                SELECT normalized_key, label FROM canonical_entities WHERE project_id = :project
                GROUP BY 1, 2 HAVING count(*) > 1""",
            "duplicate mentions": """
                SELECT m.document_id, m.chunk_index, m.char_start, m.char_end, m.label FROM entity_mentions m
                JOIN source_documents d ON d.id = m.document_id WHERE d.project_id = :project
                GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1""",
            "more than one succeeded run per document and stage": """
                SELECT s.document_id, s.stage FROM stage_runs s JOIN source_documents d ON d.id = s.document_id
                WHERE d.project_id = :project AND s.outcome = 'succeeded' GROUP BY 1, 2 HAVING count(*) > 1""",
        }
        for name, sql in duplicate_checks.items():
            rows = _scalar_rows(session, sql, project=project_id)
            if rows:
                report.violations.append(f"{name}: {rows[:5]}")

    if expected_documents is not None and len(docs) != expected_documents:
        report.violations.append(f"expected {expected_documents} documents, found {len(docs)}")

    with GraphStore(settings) as graph:
        for doc_id, uuid, sha, status, a_ocr, a_text, a_entity, a_graph, chunks, mentions, rels in docs:
            counts = graph.document_counts(uuid)
            outcome = DocumentOutcome(
                doc_id,
                uuid,
                sha,
                status,
                chunks,
                mentions,
                rels,
                counts["chunks"],
                counts["mentions"],
                counts["entities"],
                counts["co_occurs"],
                counts["typed"],
                {"ocr": a_ocr, "text": a_text, "entity": a_entity, "graph": a_graph},
            )
            report.documents[sha] = outcome
            if status not in {s.value for s in TERMINAL_STATUSES}:
                report.violations.append(f"document {doc_id} left non-terminal in {status}")
            if status == "graph_complete" and counts["chunks"] != chunks:
                report.violations.append(
                    f"document {doc_id}: {chunks} chunks in PostgreSQL, {counts['chunks']} in Neo4j"
                )
            for stage, attempts in outcome.attempts.items():
                if attempts > bound:
                    report.violations.append(f"document {doc_id}: {attempts} {stage} attempts (bound {bound})")
        duplicates = graph.query(
            """
            MATCH (d:Document) WHERE d.project_id = $project WITH d.uuid AS uuid, count(*) AS n WHERE n > 1
            RETURN uuid, n
            UNION
            MATCH (c:Chunk)<-[:HAS_CHUNK]-(d:Document) WHERE d.project_id = $project
            WITH c, count(d) AS n WHERE n > 1 RETURN c.key AS uuid, n
            UNION
            MATCH (a:Chunk)-[r:MENTIONS]->(e:Entity) WHERE e.project_id = $project
            WITH a, e, count(r) AS n WHERE n > 1 RETURN a.key + '->' + e.key AS uuid, n
            UNION
            MATCH (a:Entity)-[r]->(b:Entity) WHERE a.project_id = $project AND r.document_uuid IS NOT NULL
            WITH a, b, type(r) AS kind, r.document_uuid AS doc, count(r) AS n WHERE n > 1
            RETURN a.key + '-' + kind + '->' + b.key AS uuid, n
            """,
            project=project_id,
        )
        if duplicates:
            report.violations.append(f"duplicate graph nodes/relationships: {duplicates[:5]}")

    storage = ObjectStorage(settings)
    from docflow.core.storage import original_key

    stored = {
        obj.object_name
        for obj in storage.client.list_objects(
            storage.bucket,
            prefix=original_key(project_id=project_id, sha256="0" * 64).rsplit("/", 2)[0] + "/",
            recursive=True,
        )
    }
    expected_keys = {original_key(project_id=project_id, sha256=d.sha256) for d in report.documents.values()}
    if stored - expected_keys:
        report.violations.append(f"objects without a document: {sorted(stored - expected_keys)[:5]}")
    if expected_keys - stored:
        report.violations.append(f"documents without their original: {sorted(expected_keys - stored)[:5]}")
    return report


def compare_with_clean(clean: InvariantReport, faulted: InvariantReport) -> list[str]:
    """Per-document differences between a clean run and a faulted run of the same files."""
    differences = []
    for sha, reference in clean.documents.items():
        other = faulted.documents.get(sha)
        if other is None:
            differences.append(f"{sha[:12]}: missing from the faulted run")
        elif other.fingerprint() != reference.fingerprint():
            differences.append(f"{sha[:12]}: clean {reference.fingerprint()} != faulted {other.fingerprint()}")
    return differences
