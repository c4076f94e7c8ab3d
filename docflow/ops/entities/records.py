"""A project's entities as records: the errors a lookup gives, one entity with its counts, and a
lookup by id, name or ``LABEL:name``."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select

from docflow.core.db import session_scope
from docflow.core.entity_names import canonical_key
from docflow.core.models import MAX_ID, CanonicalEntity, EntityMention, table_of

__all__ = [
    "REFERENCE",
    "EntityError",
    "EntityNotFound",
    "EntityRecord",
    "MergeRefused",
    "entity_records",
    "find_entity",
]

_ENTITIES = table_of(CanonicalEntity)
_MENTIONS = table_of(EntityMention)
# An entity reference: a name, or LABEL:name where a name exists under several labels.
REFERENCE = re.compile(r"^(?:(?P<label>[A-Z]{2,12}):)?(?P<name>.+)$", re.DOTALL)


class EntityError(ValueError):
    """An entity reference or a merge that cannot be done as asked; the message says why."""


class EntityNotFound(EntityError):
    """The reference names no entity (or no merged entity) of the project (HTTP: 404)."""


class MergeRefused(EntityError):
    """The merge or split would contradict the project's merges as they are (HTTP: 409)."""


@dataclass(frozen=True)
class EntityRecord:
    """One canonical entity of a project, with how many documents and mentions it has now."""

    id: int
    project_id: str
    key: str  # the canonical key (normalized_key)
    label: str
    name: str
    documents: int
    mentions: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def entity_records(session: Any, condition: Any) -> list[EntityRecord]:
    """The entities ``condition`` selects, each with its documents and mentions, most mentioned first."""
    mentions = (
        select(
            _MENTIONS.c.canonical_entity_id.label("entity_id"),
            func.count().label("mentions"),
            func.count(_MENTIONS.c.document_id.distinct()).label("documents"),
        )
        .group_by(_MENTIONS.c.canonical_entity_id)
        .subquery()
    )
    rows = session.execute(
        select(
            _ENTITIES.c.id,
            _ENTITIES.c.project_id,
            _ENTITIES.c.normalized_key,
            _ENTITIES.c.label,
            _ENTITIES.c.display_name,
            func.coalesce(mentions.c.documents, 0),
            func.coalesce(mentions.c.mentions, 0),
        )
        .outerjoin(mentions, mentions.c.entity_id == _ENTITIES.c.id)
        .where(condition)
        .order_by(func.coalesce(mentions.c.mentions, 0).desc(), _ENTITIES.c.id)
    ).all()
    return [EntityRecord(*row) for row in rows]


def find_entity(*, project_id: str, reference: str) -> EntityRecord:
    """The project's entity named by ``reference``: an id (``123`` or ``#123``), a name, or
    ``LABEL:name`` when a name exists under several labels. Names are compared by canonical key
    (case, punctuation and legal form do not matter)."""
    reference = reference.strip()
    if not reference:
        raise EntityError("an entity reference is empty")
    with session_scope() as session:
        if reference.lstrip("#").isascii() and reference.lstrip("#").isdigit() and int(reference.lstrip("#")) <= MAX_ID:
            found = entity_records(
                session, (_ENTITIES.c.id == int(reference.lstrip("#"))) & (_ENTITIES.c.project_id == project_id)
            )
            if not found:
                raise EntityNotFound(f"no entity #{reference.lstrip('#')} in project {project_id}")
            return found[0]
        match = REFERENCE.match(reference)
        assert match is not None  # the pattern matches any non-empty text
        label, name = match.group("label"), match.group("name")
        condition = (_ENTITIES.c.project_id == project_id) & (_ENTITIES.c.normalized_key == canonical_key(name))
        if label:
            condition &= _ENTITIES.c.label == label
        found = entity_records(session, condition)
    if not found:
        raise EntityNotFound(f"no entity named {name!r}{f' as {label}' if label else ''} in project {project_id}")
    live = [e for e in found if e.mentions] or found
    if len(live) > 1:
        labels = ", ".join(f"{e.label}:{e.name} (#{e.id}, {e.mentions} mentions)" for e in live)
        raise EntityError(f"{name!r} names {len(live)} entities in project {project_id}: say which — {labels}")
    return live[0]
