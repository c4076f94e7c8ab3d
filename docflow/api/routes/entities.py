"""Entities: the one most like a name, with its documents, pages and neighbours — within the
caller's projects."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from docflow.api.access import Access, Listing
from docflow.api.deps import SettingsDep
from docflow.api.inputs import FreeText, ProjectFilter
from docflow.api.schemas import EntityViewModel
from docflow.core.accounts import Role
from docflow.ops.lifecycle.explore import ExploreError, explore_entity

router = APIRouter(tags=["entities"])


@router.get("/entities")
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
