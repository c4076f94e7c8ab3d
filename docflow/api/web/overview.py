"""The overview page: documents per status, queues, workers, latency, with their charts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from docflow.api.deps import PageCaller, SettingsDep
from docflow.api.web.render import render
from docflow.ops.monitor import snapshot

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/overview")
def overview(request: Request, settings: SettingsDep, caller: PageCaller) -> HTMLResponse:
    current = snapshot(settings, window_minutes=60, inspect_timeout_s=1.0)
    charts = {
        "statuses": current.statuses,
        "queues": current.queues,
        "latency": {stage: row.get("p50") for stage, row in current.latency.items()},
    }
    return render(request, "overview.html", {"m": current, "charts": charts})
