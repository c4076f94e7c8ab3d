"""A project's webhook page: where its events go and the log of every delivery (read-only: a
webhook is set through the API, which shows its secret once)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from docflow.api.deps import PageCaller
from docflow.api.inputs import Identifier
from docflow.api.web.render import render
from docflow.ops.webhooks import get_webhook, list_deliveries

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/webhooks")
def webhooks(
    request: Request, caller: PageCaller, project: Annotated[Identifier, Query(max_length=128)] = ""
) -> HTMLResponse:
    hook = get_webhook(project) if project else None
    deliveries = list_deliveries(project, limit=200) if hook else []
    return render(request, "webhooks.html", {"project": project, "hook": hook, "deliveries": deliveries})
