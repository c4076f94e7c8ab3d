"""Entities: the one most like a name, with its documents, pages and neighbours; and a project's
entities as people curate them — possible duplicates, reviewed merges and splits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from docflow.api.deps import ApiCaller, SettingsDep
from docflow.api.inputs import FreeText, Identifier, ProjectFilter
from docflow.api.schemas import EntityViewModel, MergeRequest, SplitRequest
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

ProjectId = Annotated[Identifier, Query(min_length=1, max_length=128, description="The project.")]


@router.get("")
def entity(
    settings: SettingsDep,
    caller: ApiCaller,
    name: Annotated[FreeText, Query(min_length=1, max_length=200)],
    project_id: ProjectFilter = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> EntityViewModel:
    """The entity most like ``name``: its documents and pages, and the entities it appears with."""
    try:
        view = explore_entity(name, settings=settings, project_id=project_id, limit=limit)
    except ExploreError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no entity like {name!r}")
    return EntityViewModel.model_validate(view.to_dict())


@router.get("/duplicates")
def duplicates(
    caller: ApiCaller,
    project_id: ProjectId,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    min_score: Annotated[float, Query(ge=0, le=1)] = 0.6,
) -> list[DuplicateCandidate]:
    """Pairs of the project's entities that may be one (same label, alike names, shared neighbours),
    best first: merge ``second`` into ``first`` (it has more mentions) if they are."""
    return possible_duplicates(project_id=project_id, limit=limit, min_score=min_score)


@router.get("/merges")
def merges(caller: ApiCaller, project_id: ProjectId, include_split: bool = False) -> list[MergeRecord]:
    """The project's reviewed merges (who, when, why), oldest first; with ``include_split`` the history."""
    return list_merges(project_id=project_id, include_split=include_split)


def _refusal(exc: EntityError) -> HTTPException:
    if isinstance(exc, EntityNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))
    if isinstance(exc, MergeRefused):
        return HTTPException(status.HTTP_409_CONFLICT, str(exc))
    return HTTPException(status.HTTP_400_BAD_REQUEST, str(exc))


@router.post("/merges", status_code=status.HTTP_201_CREATED)
def merge(body: MergeRequest, settings: SettingsDep, caller: ApiCaller) -> MergeResult:
    """Merge ``source`` into ``target``: recorded, kept through reprocessing and export, and the
    documents that mention them re-driven from the entity stage. 409 when it contradicts a live merge."""
    try:
        return merge_entities(
            project_id=body.project_id,
            source=body.source,
            target=body.target,
            merged_by=caller.via,
            settings=settings,
            reason=body.reason,
        )
    except EntityError as exc:
        raise _refusal(exc) from None


@router.post("/merges/split")
def split(body: SplitRequest, settings: SettingsDep, caller: ApiCaller) -> MergeResult:
    """End ``source``'s merge: it is its own entity again (the merge stays in the history)."""
    try:
        return split_entity(project_id=body.project_id, source=body.source, split_by=caller.via, settings=settings)
    except EntityError as exc:
        raise _refusal(exc) from None
