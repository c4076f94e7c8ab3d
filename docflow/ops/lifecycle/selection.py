"""Choosing documents: by id or uuid, by status, by project, by the pipeline version that made them.

One selection feeds reprocess, delete and export, from the CLI, the API and the Prefect form.
A selection with no criterion at all is refused: "every document" must be asked for explicitly
(``--project``), never reached by forgetting an argument.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Row, TextClause, false, literal, or_, select, text

from docflow.core.db import fetch_all, session_scope
from docflow.core.models import MAX_ID, SourceDocument, table_of
from docflow.core.scope import Projects, in_projects, scope_parameter
from docflow.core.settings import Settings
from docflow.core.status import Stage, Status
from docflow.core.versions import outdated_parameters, outdated_sql

_DOCS = table_of(SourceDocument)
# What the operations need of a selected document (no large columns).
COLUMNS = (
    _DOCS.c.id,
    _DOCS.c.document_uuid,
    _DOCS.c.project_id,
    _DOCS.c.original_file_name,
    _DOCS.c.celery_status,
    _DOCS.c.celery_task_id,
    _DOCS.c.object_key,
    _DOCS.c.sha256,
    _DOCS.c.pipeline_versions,
    _DOCS.c.ocr_completed_at,
    _DOCS.c.text_completed_at,
    _DOCS.c.entity_completed_at,
    _DOCS.c.graph_completed_at,
    _DOCS.c.parent_document_id,
)


# Archives nest at most 3 levels (the attachment limit); the walk stops a little past that.
MAX_NESTING = 8


class SelectionError(ValueError):
    """A selection that cannot be run as asked (empty, malformed); the message says what to fix."""


@dataclass(frozen=True)
class Selection:
    documents: tuple[str, ...] = ()  # ids or uuids
    statuses: tuple[str, ...] = ()
    project_id: str | None = None
    outdated: tuple[str, ...] = ()  # stages: documents whose result for any of them came from another version
    made_with: tuple[str, ...] = ()  # "stage=text": the stage's recorded version contains the text
    limit: int | None = None
    # Who asks may see only these projects (None: every project): outside them nothing is selected,
    # and a document named by id there is reported missing, exactly like one that does not exist.
    allowed_projects: Projects = None

    @property
    def is_empty(self) -> bool:
        return not (self.documents or self.statuses or self.project_id or self.outdated or self.made_with)

    def describe(self) -> str:
        parts = []
        if self.documents:
            parts.append(f"documents {', '.join(self.documents)}")
        if self.statuses:
            parts.append(f"status {' or '.join(self.statuses)}")
        if self.project_id:
            parts.append(f"project {self.project_id}")
        if self.outdated:
            parts.append(f"made by an older {'/'.join(self.outdated)} version")
        if self.made_with:
            parts.append(f"made with {', '.join(self.made_with)}")
        return "; ".join(parts) or "nothing"


@dataclass
class Selected:
    rows: list[Row[Any]]
    missing: list[str] = field(default_factory=list)  # references that named no document


def members_of(document_ids: Iterable[int]) -> list[Row[Any]]:
    """Every member of the given archives, and members of members, not the archives themselves:
    deepest first (a member before the archive it came in), then by id."""
    ids = sorted(set(document_ids))
    if not ids:
        return []
    tree = select(_DOCS.c.id, literal(1).label("depth")).where(_DOCS.c.parent_document_id.in_(ids)).cte(recursive=True)
    tree = tree.union(
        select(_DOCS.c.id, (tree.c.depth + 1).label("depth")).where(_DOCS.c.parent_document_id == tree.c.id)
    )
    query = (
        select(*COLUMNS)
        .join(tree, tree.c.id == _DOCS.c.id)
        .where(tree.c.depth <= MAX_NESTING)
        .order_by(tree.c.depth.desc(), _DOCS.c.id)
    )
    with session_scope() as session:
        rows = list(session.execute(query).all())
    return list({row.id: row for row in rows}.values())


def parse_reference(reference: str) -> int | uuid.UUID:
    """A document reference: its numeric id or its uuid. :class:`SelectionError` otherwise."""
    text = reference.strip()
    if text.isascii() and text.isdigit():
        if not 1 <= int(text) <= MAX_ID:
            raise SelectionError(f"no document id is {text}: ids run from 1 to {MAX_ID}")
        return int(text)
    try:
        return uuid.UUID(text)
    except ValueError:
        raise SelectionError(f"not a document id or uuid: {reference!r}") from None


def _stages(names: Iterable[str]) -> list[Stage]:
    try:
        return [Stage(name) for name in names]
    except ValueError:
        raise SelectionError(f"unknown stage in {list(names)} (stages: {', '.join(s.value for s in Stage)})") from None


def select_documents(selection: Selection, settings: Settings) -> Selected:
    """The documents the selection names, oldest first; references that match nothing are listed."""
    if selection.is_empty:
        raise SelectionError("select documents by id, --status, --project, --outdated or --made-with")
    unknown = [s for s in selection.statuses if s not in {status.value for status in Status}]
    if unknown:
        raise SelectionError(f"unknown status {', '.join(unknown)} (statuses: {', '.join(s.value for s in Status)})")
    references = [parse_reference(ref) for ref in selection.documents]
    ids = [ref for ref in references if isinstance(ref, int)]
    uuids = [ref for ref in references if isinstance(ref, uuid.UUID)]
    conditions: list[ColumnElement[bool] | TextClause] = []
    if references:
        conditions.append(
            or_(_DOCS.c.id.in_(ids) if ids else false(), _DOCS.c.document_uuid.in_(uuids) if uuids else false())
        )
    if selection.statuses:
        conditions.append(_DOCS.c.celery_status.in_(selection.statuses))
    if selection.project_id:
        conditions.append(_DOCS.c.project_id == selection.project_id)
    if selection.allowed_projects is not None:
        conditions.append(_DOCS.c.project_id.in_(sorted(selection.allowed_projects)))
    if selection.outdated:
        # Parenthesized whole: ANDed with the other conditions, a bare "a OR b" let b through any project.
        outdated = (
            "(" + " OR ".join(outdated_sql(stage, placeholder=":{}") for stage in _stages(selection.outdated)) + ")"
        )
        used = {name: value for name, value in outdated_parameters(settings).items() if f":{name}" in outdated}
        conditions.append(text(outdated).bindparams(**used))
    for wanted in selection.made_with:
        stage_name, _, fragment = wanted.partition("=")
        (stage,) = _stages([stage_name.strip()])
        if not fragment.strip():
            raise SelectionError(f"--made-with needs stage=version text, got {wanted!r}")
        conditions.append(_DOCS.c.pipeline_versions[stage.value].astext.contains(fragment.strip()))
    query = select(*COLUMNS).where(*conditions).order_by(_DOCS.c.id)
    if selection.limit:
        query = query.limit(selection.limit)
    with session_scope() as session:
        rows = list(session.execute(query).all())
    found = {str(row.id) for row in rows} | {str(row.document_uuid) for row in rows}
    missing = [ref for ref, parsed in zip(selection.documents, references, strict=True) if str(parsed) not in found]
    return Selected(rows, missing)


@dataclass(frozen=True)
class DocumentRef:
    id: int
    project_id: str


_FIND_SQL = f"""
SELECT id, project_id FROM source_documents
WHERE (id = %(id)s OR document_uuid = %(uuid)s) AND {in_projects("project_id")}
"""


def find_document(reference: str, *, projects: Projects) -> DocumentRef | None:
    """The document named by id or uuid, when it is in one of ``projects`` (None: any); else None —
    the same answer for a document outside them as for one that does not exist."""
    parsed = parse_reference(reference)
    rows = fetch_all(
        _FIND_SQL,
        {
            "id": parsed if isinstance(parsed, int) else None,
            "uuid": parsed if isinstance(parsed, uuid.UUID) else None,
            "projects": scope_parameter(projects),
        },
    )
    return DocumentRef(int(rows[0][0]), rows[0][1]) if rows else None
