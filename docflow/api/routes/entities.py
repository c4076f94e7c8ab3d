"""Entities: the one most like a name, with its documents, pages and neighbours."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from docflow.api.deps import ApiCaller, SettingsDep
from docflow.api.inputs import FreeText, ProjectFilter
from docflow.api.schemas import EntityViewModel
from docflow.ops.lifecycle.explore import ExploreError, explore_entity

router = APIRouter(tags=["entities"])


@router.get("/entities")
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
