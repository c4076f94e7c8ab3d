"""Entities: the one most like a name, with its documents, pages and neighbours; and a project's
entities as people curate them — possible duplicates, reviewed merges and splits. All within the
caller's projects: a listing reads only them, a curation route only the project it names (merge and
split: an operator's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Query, status

from docflow.api.access import Access, InBodyProject, InProject, Listing
from docflow.api.deps import SettingsDep
from docflow.api.inputs import FreeText, ProjectFilter
from docflow.api.schemas import EntityViewModel
from docflow.core.accounts import Role
from docflow.ops.entities import (
    DuplicateCandidate,
    EntityError,
    EntityNotFound,
    MergeRecord,
    MergeRefused,
    MergeResult,
    list_merges,
    merge_entities,
    possible_duplicates,
    split_entity,
)
from docflow.ops.lifecycle.explore import ExploreError, explore_entity

router = APIRouter(prefix="/entities", tags=["entities"])

Curator = Annotated[Access, Depends(InProject(Role.VIEWER))]
# Merge and split name their project in the JSON body, beside their other fields.
Merger = Annotated[Access, Depends(InBodyProject(Role.OPERATOR))]


@router.get("")
def entity(
    settings: SettingsDep,
    access: Annotated[Access, Depends(Listing(Role.VIEWER))],
    name: Annotated[FreeText, Query(min_length=1, max_length=200)],
    project_id: ProjectFilter = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> EntityViewModel:
    """The entity most like ``name``: its documents and pages, and the entities it appears with."""
    try:
        view = explore_entity(name, settings=settings, project_id=project_id, limit=limit, projects=access.projects)
    except ExploreError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    access.record("entity-lookup", target=name, detail={"found": view.entity.entity_id if view else None})
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no entity like {name!r}")
    return EntityViewModel.model_validate(view.to_dict())


@router.get("/duplicates")
def duplicates(
    access: Curator,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    min_score: Annotated[float, Query(ge=0, le=1)] = 0.6,
) -> list[DuplicateCandidate]:
    """Pairs of the project's entities that may be one (same label, alike names, shared neighbours),
    best first: merge ``second`` into ``first`` (it has more mentions) if they are."""
    return possible_duplicates(project_id=access.project, limit=limit, min_score=min_score)


@router.get("/merges")
def merges(access: Curator, include_split: bool = False) -> list[MergeRecord]:
    """The project's reviewed merges (who, when, why), oldest first; with ``include_split`` the history."""
    return list_merges(project_id=access.project, include_split=include_split)


def _refusal(exc: EntityError) -> HTTPException:
    if isinstance(exc, EntityNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))
    if isinstance(exc, MergeRefused):
        return HTTPException(status.HTTP_409_CONFLICT, str(exc))
    return HTTPException(status.HTTP_400_BAD_REQUEST, str(exc))


@router.post("/merges", status_code=status.HTTP_201_CREATED)
def merge(
    settings: SettingsDep,
    access: Merger,
    source: Annotated[
        FreeText, Body(min_length=1, max_length=300, description="The entity merged away: #id, name or LABEL:name.")
    ],
    target: Annotated[FreeText, Body(min_length=1, max_length=300, description="The entity it is merged into.")],
    reason: Annotated[FreeText | None, Body(max_length=500, description="Recorded with the merge.")] = None,
) -> MergeResult:
    """Merge ``source`` into ``target``: recorded, kept through reprocessing and export, and the
    documents that mention them re-driven from the entity stage. 409 when it contradicts a live merge."""
    try:
        return merge_entities(
            project_id=access.project,
            source=source,
            target=target,
            merged_by=access.principal.actor,
            settings=settings,
            reason=reason,
        )
    except EntityError as exc:
        raise _refusal(exc) from None


@router.post("/merges/split")
def split(
    settings: SettingsDep,
    access: Merger,
    source: Annotated[
        FreeText, Body(min_length=1, max_length=300, description="The merged-away entity, its own again.")
    ],
) -> MergeResult:
    """End ``source``'s merge: it is its own entity again (the merge stays in the history)."""
    try:
        return split_entity(
            project_id=access.project, source=source, split_by=access.principal.actor, settings=settings
        )
    except EntityError as exc:
        raise _refusal(exc) from None
