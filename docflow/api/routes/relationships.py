"""Typed relationships with their evidence: an entity's, and a document's.

Each edge says what the document states (``ROLE_AT``, ``ACQUIRED``, ``WROTE_TO``…, README "Typed
relationships"), with every place that states it: the sentence, page, chunk and character span,
the rule or pattern that read it and a confidence. ``CO_OCCURS`` is not here: the entity route's
neighbours serve it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import StringConstraints

from docflow.api.deps import ApiCaller
from docflow.api.inputs import DocumentReference, EntityId
from docflow.api.schemas import DocumentRelationshipsView, EntityRelationshipsView
from docflow.core.relation_kinds import TYPED_KINDS
from docflow.ops.lifecycle.relations import document_relationships, entity_relationships
from docflow.ops.lifecycle.selection import SelectionError, parse_reference

router = APIRouter(tags=["relationships"])

# A kind of the vocabulary (docflow.core.relation_kinds), so the OpenAPI description lists them.
KindName = Annotated[str, StringConstraints(pattern=f"^({'|'.join(TYPED_KINDS)})$")]
KindFilter = Annotated[
    list[KindName] | None,
    Query(max_length=len(TYPED_KINDS), description="Only these kinds (repeat the parameter for more)."),
]


@router.get("/entities/{entity_id}/relationships")
def entity_relationships_route(
    entity_id: EntityId,
    caller: ApiCaller,
    kind: KindFilter = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> EntityRelationshipsView:
    """The entity's typed relationships in every document, each with the places that state it."""
    found = entity_relationships(entity_id, kinds=kind, limit=limit)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no entity {entity_id}")
    return EntityRelationshipsView.model_validate(found.to_dict())


@router.get("/documents/{reference}/relationships")
def document_relationships_route(reference: DocumentReference, caller: ApiCaller) -> DocumentRelationshipsView:
    """The typed relationships the document states, each with the places that state it."""
    try:
        parsed = parse_reference(reference)
    except SelectionError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    found = document_relationships(parsed)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {reference}")
    return DocumentRelationshipsView.model_validate(found.to_dict())
