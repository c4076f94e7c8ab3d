"""The search page: a query, filters, ranked hits with their snippets, and paging."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from docflow.api.access import Access, Listing
from docflow.api.inputs import FreeText, Identifier, PageNumber
from docflow.api.web.render import render
from docflow.api.web.views import snippet_segments
from docflow.core.accounts import Role
from docflow.ops.lifecycle.search import SearchError, SearchFilters, search_chunks

router = APIRouter(prefix="/ui", include_in_schema=False)
PAGE_SIZE = 10


@router.get("/search")
def search(
    request: Request,
    access: Annotated[Access, Depends(Listing(Role.VIEWER, page=True))],
    q: Annotated[FreeText, Query(max_length=1000)] = "",
    project: Annotated[Identifier, Query(max_length=128)] = "",
    type: Annotated[Identifier, Query(max_length=16)] = "",
    status: Annotated[Identifier, Query(max_length=32)] = "",
    since: Annotated[Identifier, Query(max_length=32)] = "",
    until: Annotated[Identifier, Query(max_length=32)] = "",
    page_number: PageNumber = 1,
) -> HTMLResponse:
    given = {"q": q, "project": project, "type": type, "status": status, "since": since, "until": until}
    context: dict[str, Any] = {**given, "results": None, "error": None, "page_number": page_number}
    if q.strip():
        try:
            filters = SearchFilters(project or None, type or None, status or None, _day(since), _day(until))
            results = search_chunks(
                q, filters=filters, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE, projects=access.projects
            )
        except (SearchError, ValueError) as exc:
            context["error"] = str(exc)
        else:
            access.record("search", target=q, detail={"project": project or None, "hits": len(results.hits)})
            params = {key: value for key, value in given.items() if value}
            context["results"] = results
            context["hits"] = [{"hit": hit, "segments": snippet_segments(hit.snippet)} for hit in results.hits]
            context["previous_url"] = (
                f"/ui/search?{urlencode({**params, 'page_number': page_number - 1})}" if page_number > 1 else None
            )
            context["next_url"] = (
                f"/ui/search?{urlencode({**params, 'page_number': page_number + 1})}" if results.has_more else None
            )
    return render(request, "search.html", context)


def _day(text: str) -> datetime | None:
    """A ``YYYY-MM-DD`` filter as the start of that day (UTC); ValueError with the reason otherwise."""
    return datetime.combine(date.fromisoformat(text), time.min, tzinfo=UTC) if text else None
