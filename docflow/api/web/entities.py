"""An entity's page (what the documents say about it: typed relationships with their evidence
sentence and a link to its page; its documents and pages; its neighbourhood drawn as a graph whose
labels never overlap), and a project's entities as people curate them: possible duplicates to
merge, merges to split again."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from docflow.api.deps import PageCaller, SettingsDep
from docflow.api.inputs import EntityId, FreeText, Identifier
from docflow.api.web.render import missing, render
from docflow.api.web.views import neighbourhood_graph
from docflow.ops.entities import EntityError, list_merges, merge_entities, possible_duplicates, split_entity
from docflow.ops.lifecycle.explore import ExploreError, explore_entity_by_id, match_entities
from docflow.ops.lifecycle.relations import entity_relationships

router = APIRouter(prefix="/ui/entities", include_in_schema=False)

RELATIONSHIPS_SHOWN = 100  # typed edges listed on an entity's page (the API serves more)


@router.get("")
def entity_by_name(
    request: Request,
    caller: PageCaller,
    name: Annotated[FreeText, Query(max_length=200)] = "",
    project: Annotated[Identifier, Query(max_length=128)] = "",
) -> Response:
    """The entity most like ``name`` (a search box's answer): redirected to its page."""
    try:
        matches = match_entities(name, project_id=project or None, limit=1) if name.strip() else []
    except ExploreError:
        matches = []
    if not matches:
        return missing(request, f"an entity like {name!r}")
    return RedirectResponse(f"/ui/entities/{matches[0].entity_id}", status_code=303)


@router.get("/curation")
def curation(
    request: Request, caller: PageCaller, project: Annotated[Identifier, Query(max_length=128)] = ""
) -> HTMLResponse:
    candidates = possible_duplicates(project_id=project) if project else []
    history = list_merges(project_id=project, include_split=True) if project else []
    return render(request, "entity_curation.html", {"project": project, "candidates": candidates, "merges": history})


@router.post("/merge")
def merge(
    settings: SettingsDep,
    caller: PageCaller,
    project: Annotated[Identifier, Form(min_length=1, max_length=128)],
    source: Annotated[FreeText, Form(min_length=1, max_length=300)],
    target: Annotated[FreeText, Form(min_length=1, max_length=300)],
) -> Response:
    try:
        result = merge_entities(
            project_id=project, source=source, target=target, merged_by=caller.via, settings=settings
        )
    except EntityError as exc:
        return _back_to_curation(project, f"not merged: {exc}")
    record = result.merge
    return _back_to_curation(
        project, f"merged {record.from_name} into {record.into_name}; {len(result.redriven)} document(s) re-read"
    )


@router.post("/split")
def split(
    settings: SettingsDep,
    caller: PageCaller,
    project: Annotated[Identifier, Form(min_length=1, max_length=128)],
    source: Annotated[FreeText, Form(min_length=1, max_length=300)],
) -> Response:
    try:
        result = split_entity(project_id=project, source=source, split_by=caller.via, settings=settings)
    except EntityError as exc:
        return _back_to_curation(project, f"not split: {exc}")
    return _back_to_curation(project, f"{result.merge.from_name} is its own entity again")


def _back_to_curation(project: str, notice: str) -> RedirectResponse:
    return RedirectResponse(
        f"/ui/entities/curation?{urlencode({'project': project, 'notice': notice})}", status_code=303
    )


@router.get("/{entity_id}")
def entity(request: Request, settings: SettingsDep, caller: PageCaller, entity_id: EntityId) -> HTMLResponse:
    view = explore_entity_by_id(entity_id, settings=settings, limit=25)
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
