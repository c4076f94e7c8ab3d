"""The overview page: documents per status, queues, workers, latency, with their charts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from docflow.api.access import Access, Listing
from docflow.api.deps import SettingsDep
from docflow.api.web.render import render
from docflow.core.accounts import Role
from docflow.ops.monitor import snapshot

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/overview")
def overview(
    request: Request, settings: SettingsDep, access: Annotated[Access, Depends(Listing(Role.VIEWER, page=True))]
) -> HTMLResponse:
    """The monitor over the caller's projects (queues and workers are the installation's)."""
    current = snapshot(settings, window_minutes=60, inspect_timeout_s=1.0, projects=access.projects)
    charts = {
        "statuses": current.statuses,
        "queues": current.queues,
        "latency": {stage: row.get("p50") for stage, row in current.latency.items()},
    }
    return render(request, "overview.html", {"m": current, "charts": charts})
