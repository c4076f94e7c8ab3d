"""An entity's page (what the documents say about it: typed relationships with their evidence
sentence and a link to its page; its documents and pages; its neighbourhood drawn as a graph whose
labels never overlap), and a project's entities as people curate them: possible duplicates to
merge, merges to split again."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from docflow.api.access import Access, InFormProject, InProject, Listing, OnEntity
from docflow.api.deps import SettingsDep
from docflow.api.inputs import EntityId, FreeText, Identifier
from docflow.api.web.render import missing, render
from docflow.api.web.views import neighbourhood_graph
from docflow.core.accounts import Role
from docflow.ops.entities import EntityError, list_merges, merge_entities, possible_duplicates, split_entity
from docflow.ops.lifecycle.explore import ExploreError, explore_entity_by_id, match_entities
from docflow.ops.lifecycle.relations import entity_relationships

router = APIRouter(prefix="/ui/entities", include_in_schema=False)

RELATIONSHIPS_SHOWN = 100  # typed edges listed on an entity's page (the API serves more)


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


# The curation page reads a project's entities; its merge and split forms are an operator's, and
# name the project in their field project_id (their CSRF token is checked with the session).
Curator = Annotated[Access, Depends(InProject(Role.VIEWER, page=True))]
Merger = Annotated[Access, Depends(InFormProject(Role.OPERATOR, page=True))]
Reference = Annotated[FreeText, Form(min_length=1, max_length=300)]


@router.get("/curation")
def curation(request: Request, access: Curator) -> HTMLResponse:
    """A project's possible duplicates (with a merge button each) and its merges (with a split button)."""
    project = access.project
    context = {
        "project": project,
        "candidates": possible_duplicates(project_id=project),
        "merges": list_merges(project_id=project, include_split=True),
        "may_operate": access.principal.may(Role.OPERATOR, project),
    }
    return render(request, "entity_curation.html", context)


@router.post("/merge")
def merge(settings: SettingsDep, access: Merger, source: Reference, target: Reference) -> Response:
    try:
        result = merge_entities(
            project_id=access.project,
            source=source,
            target=target,
            merged_by=access.principal.actor,
            settings=settings,
        )
    except EntityError as exc:
        return _back_to_curation(access.project, f"not merged: {exc}")
    merged = result.merge
    return _back_to_curation(
        access.project, f"merged {merged.from_name} into {merged.into_name}; {len(result.redriven)} document(s) re-read"
    )


@router.post("/split")
def split(settings: SettingsDep, access: Merger, source: Reference) -> Response:
    try:
        result = split_entity(
            project_id=access.project, source=source, split_by=access.principal.actor, settings=settings
        )
    except EntityError as exc:
        return _back_to_curation(access.project, f"not split: {exc}")
    return _back_to_curation(access.project, f"{result.merge.from_name} is its own entity again")


def _back_to_curation(project: str, notice: str) -> RedirectResponse:
    return RedirectResponse(
        f"/ui/entities/curation?{urlencode({'project_id': project, 'notice': notice})}", status_code=303
    )


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
    typed = entity_relationships(entity_id, limit=RELATIONSHIPS_SHOWN)
    edges = typed.edges if typed is not None else []
    return render(
        request,
        "entity.html",
        {
            "view": view,
            "graph": neighbourhood_graph(view, edges),
            "relationships": edges,
            "counts": typed.counts if typed else {},
        },
    )
