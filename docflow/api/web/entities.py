"""An entity's page: its documents and pages, and its neighbourhood drawn as a graph."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from docflow.api.access import Access, Listing, OnEntity
from docflow.api.deps import SettingsDep
from docflow.api.inputs import EntityId, FreeText, Identifier
from docflow.api.web.render import missing, render
from docflow.api.web.views import neighbourhood_graph
from docflow.core.accounts import Role
from docflow.ops.lifecycle.explore import ExploreError, explore_entity_by_id, match_entities

router = APIRouter(prefix="/ui/entities", include_in_schema=False)


@router.get("")
def entity_by_name(
    request: Request,
    access: Annotated[Access, Depends(Listing(Role.VIEWER, page=True))],
    name: Annotated[FreeText, Query(max_length=200)] = "",
    project: Annotated[Identifier, Query(max_length=128)] = "",
) -> Response:
    """The entity most like ``name`` (a search box's answer): redirected to its page."""
    try:
        matches = (
            match_entities(name, project_id=project or None, limit=1, projects=access.projects) if name.strip() else []
        )
    except ExploreError:
        matches = []
    if not matches:
        return missing(request, f"an entity like {name!r}")
    return RedirectResponse(f"/ui/entities/{matches[0].entity_id}", status_code=303)


@router.get("/{entity_id}")
def entity(
    request: Request,
    settings: SettingsDep,
    access: Annotated[Access, Depends(OnEntity(Role.VIEWER, page=True, audit="entity-view"))],
    entity_id: EntityId,
) -> HTMLResponse:
    view = explore_entity_by_id(entity_id, settings=settings, limit=25, projects=access.projects)
    if view is None:
        return missing(request, f"entity {entity_id}")
    return render(request, "entity.html", {"view": view, "graph": neighbourhood_graph(view)})
