"""Full-text search over the chunks of the documents in the caller's projects."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from docflow.api.access import Access, Listing
from docflow.api.inputs import FreeText, Identifier, ProjectFilter
from docflow.api.schemas import SearchResultsView
from docflow.core.accounts import Role
from docflow.ops.lifecycle.search import SearchError, SearchFilters, search_chunks

router = APIRouter(tags=["search"])


@router.get("/search")
def search(
    access: Annotated[Access, Depends(Listing(Role.VIEWER))],
    q: Annotated[FreeText, Query(max_length=1000, description='Words, "a phrase", or, -excluded.')],
    project_id: ProjectFilter = None,
    file_type: Annotated[Identifier | None, Query(max_length=16)] = None,
    status_: Annotated[Identifier | None, Query(alias="status", max_length=32)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 10,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> SearchResultsView:
    """Full-text search over chunks: ranked hits with document, page span and a highlighted snippet."""
    try:
        results = search_chunks(
            q,
            filters=SearchFilters(project_id, file_type, status_, since, until),
            limit=limit,
            offset=offset,
            projects=access.projects,
        )
    except SearchError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    access.record("search", target=q, detail={"project": project_id, "hits": len(results.hits)})
    return SearchResultsView.model_validate(results.to_dict())
