"""Rendering a page: the templates (Jinja2, autoescaped), what every page shows, and the pieces of
request handling the pages share (a posted form, a redirect back with a notice)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STATIC = Path(__file__).parent / "static"


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """``name`` with ``context``, plus what the layout shows on every page (Prefect's link, a notice,
    who is signed in) and the CSRF token every form of a signed-in page carries."""
    session_id = getattr(request.state, "session_id", None)
    base = {
        "prefect_url": request.app.state.settings.prefect_ui_url,
        "notice": request.query_params.get("notice"),
        "me": getattr(request.state, "principal", None),
        "csrf_token": request.app.state.credentials.csrf_token(session_id) if session_id else "",
    }
    return TEMPLATES.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def missing(request: Request, what: str) -> HTMLResponse:
    """The 404 page: "no ``what``"."""
    return render(request, "missing.html", {"what": f"no {what}"}, 404)


def back_to_document(document_id: int, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/ui/documents/{document_id}?{urlencode({'notice': notice})}", status_code=303)


def safe_next(target: str | None) -> str:
    """Only a path of these pages: never an open redirect to another site."""
    return target if target and target.startswith("/ui/") and not target.startswith("//") else "/ui/overview"
