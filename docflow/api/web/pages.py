"""The web pages: sign in, search, a document with its pages and entities, an entity's
neighbourhood, and an overview of the pipeline.

Server-rendered (Jinja2, autoescaped: every file name, text and entity name is shown as text),
readable and usable without JavaScript; small scripts only draw the graph and the charts, from
data the page carries. Every page needs the API's token: the sign-in form turns it into a signed,
expiring, HttpOnly session cookie (:mod:`docflow.api.auth`); without one, a page redirects there.
The operator's actions (reprocess, delete) go through a confirmation page and the same operations
the CLI and the API run; a refusal shows its reason.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from docflow.api.auth import SESSION_COOKIE, TokenCheck
from docflow.api.web import page_images
from docflow.api.web.views import history_in_words, snippet_segments
from docflow.core.db import fetch_all
from docflow.core.errors import PermanentError, TransientError
from docflow.core.settings import Settings
from docflow.core.status import Stage
from docflow.ops.lifecycle.delete import delete_documents
from docflow.ops.lifecycle.explore import ExploreError, explore_entity_by_id, match_entities
from docflow.ops.lifecycle.reading import document_entities, document_pages
from docflow.ops.lifecycle.reprocess import reprocess
from docflow.ops.lifecycle.search import SearchError, SearchFilters, search_chunks
from docflow.ops.lifecycle.selection import Selection
from docflow.ops.monitor import snapshot
from docflow.ops.summaries import document_detail

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
PAGE_SIZE = 10


async def _form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (the pages' only kind of form)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {key: values[-1] for key, values in parse_qs(body, keep_blank_values=True).items()}


def _safe_next(target: str | None) -> str:
    # Only a path of these pages: never an open redirect to another site.
    return target if target and target.startswith("/ui/") and not target.startswith("//") else "/ui/overview"


def build_web_router(settings: Settings, check: TokenCheck) -> APIRouter:
    router = APIRouter(prefix="/ui", include_in_schema=False)

    def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
        base = {"prefect_url": settings.prefect_ui_url, "notice": request.query_params.get("notice")}
        return TEMPLATES.TemplateResponse(request, name, {**base, **context}, status_code=status_code)

    def signed_out(request: Request) -> Response | None:
        if check.authorised(request):
            return None
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/ui/login?next={quote(target)}", status_code=303)

    @router.get("/login")
    def login_form(request: Request, next: str = "/ui/overview") -> HTMLResponse:
        return page(request, "login.html", {"next": _safe_next(next), "error": None})

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await _form(request)
        target = _safe_next(form.get("next"))
        if not check.valid_token(form.get("token", "").strip()):
            return page(request, "login.html", {"next": target, "error": "That token is not right."}, 401)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            check.new_session(),
            max_age=int(check.session_seconds),
            httponly=True,
            samesite="strict",
            path="/",
        )
        return response

    @router.post("/logout")
    def logout() -> Response:
        response = RedirectResponse("/ui/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("")
    @router.get("/")
    def home(request: Request) -> Response:
        return signed_out(request) or RedirectResponse("/ui/overview", status_code=303)

    @router.get("/search")
    def search(
        request: Request,
        q: str = "",
        project: str = "",
        type: str = "",
        status: str = "",
        since: str = "",
        until: str = "",
        page_number: int = 1,
    ) -> Response:
        if (redirect := signed_out(request)) is not None:
            return redirect
        context: dict[str, Any] = {
            "q": q,
            "project": project,
            "type": type,
            "status": status,
            "since": since,
            "until": until,
            "results": None,
            "error": None,
            "page_number": page_number,
        }
        if q.strip():
            try:
                filters = SearchFilters(project or None, type or None, status or None, _day(since), _day(until))
                results = search_chunks(
                    q, filters=filters, limit=PAGE_SIZE, offset=(max(page_number, 1) - 1) * PAGE_SIZE
                )
                context["results"] = results
                context["hits"] = [{"hit": hit, "segments": snippet_segments(hit.snippet)} for hit in results.hits]
                params = {
                    k: v
                    for k, v in {
                        "q": q,
                        "project": project,
                        "type": type,
                        "status": status,
                        "since": since,
                        "until": until,
                    }.items()
                    if v
                }
                context["previous_url"] = (
                    f"/ui/search?{urlencode({**params, 'page_number': page_number - 1})}" if page_number > 1 else None
                )
                context["next_url"] = (
                    f"/ui/search?{urlencode({**params, 'page_number': page_number + 1})}" if results.has_more else None
                )
            except (SearchError, ValueError) as exc:
                context["error"] = str(exc)
        return page(request, "search.html", context)

    @router.get("/documents/{document_id}")
    def document(request: Request, document_id: int, page_number: int = 1, q: str = "") -> Response:
        if (redirect := signed_out(request)) is not None:
            return redirect
        detail = document_detail(str(document_id))
        if detail is None:
            return page(request, "missing.html", {"what": f"document {document_id}"}, 404)
        pages = document_pages(document_id)
        count = max(len(pages), detail["page_count"] or 0, 1)
        current = min(max(page_number, 1), count)
        return page(
            request,
            "document.html",
            {
                "d": detail,
                "history": history_in_words(detail["history"]),
                "pages": pages,
                "page_count": count,
                "current": current,
                "text": next((p for p in pages if p.number == current), None),
                "entities": document_entities(document_id),
                "pictures": page_images.has_pictures(detail["file_type"]),
                "stages": [s.value for s in Stage],
                "q": q,
            },
        )

    @router.get("/documents/{document_id}/pages/{number}.png")
    async def page_picture(request: Request, document_id: int, number: int) -> Response:
        if not check.authorised(request):
            return Response(status_code=401)
        detail = document_detail(str(document_id))
        if detail is None:
            return Response(status_code=404)
        try:
            object_key, sha256 = await run_in_threadpool(_original, document_id)
            path = await run_in_threadpool(
                page_images.page_png,
                settings,
                object_key=object_key,
                sha256=sha256,
                file_type=detail["file_type"],
                page=number,
            )
        except PermanentError as exc:
            return Response(str(exc), status_code=404, media_type="text/plain")
        except TransientError as exc:
            return Response(str(exc), status_code=503, media_type="text/plain")
        return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    @router.get("/documents/{document_id}/confirm")
    def confirm(
        request: Request, document_id: int, action: str = "reprocess", stage: str = "ocr", force: str = ""
    ) -> Response:
        if (redirect := signed_out(request)) is not None:
            return redirect
        detail = document_detail(str(document_id))
        if detail is None:
            return page(request, "missing.html", {"what": f"document {document_id}"}, 404)
        refusal = None
        if action == "reprocess":
            try:
                dry = reprocess(
                    Selection(documents=(str(document_id),)),
                    from_stage=Stage(stage),
                    settings=settings,
                    requested_by="web",
                    force=bool(force),
                    dry_run=True,
                )
                refusal = dry.outcomes[0].reason if dry.outcomes and dry.outcomes[0].action != "would queue" else None
            except ValueError:
                refusal = f"unknown stage {stage!r}"
        return page(
            request,
            "confirm.html",
            {"d": detail, "action": action, "stage": stage, "force": bool(force), "refusal": refusal},
        )

    @router.post("/documents/{document_id}/reprocess")
    async def do_reprocess(request: Request, document_id: int) -> Response:
        if (redirect := signed_out(request)) is not None:
            return redirect
        form = await _form(request)
        try:
            stage = Stage(form.get("stage", "ocr"))
        except ValueError:
            return _back(document_id, f"unknown stage {form.get('stage')!r}")
        if form.get("confirm") != "yes":
            return _back(document_id, "reprocessing was not confirmed")
        report = await run_in_threadpool(
            lambda: reprocess(
                Selection(documents=(str(document_id),)),
                from_stage=stage,
                settings=settings,
                requested_by="web",
                reason=form.get("reason", ""),
                force=form.get("force") == "yes",
            )
        )
        outcome = report.outcomes[0]
        if outcome.action == "queued":
            return _back(document_id, f"queued again from {stage.value}")
        return _back(document_id, f"not reprocessed: {outcome.reason}")

    @router.post("/documents/{document_id}/delete")
    async def do_delete(request: Request, document_id: int) -> Response:
        if (redirect := signed_out(request)) is not None:
            return redirect
        form = await _form(request)
        if form.get("confirm", "").strip().lower() != "delete":
            return _back(document_id, 'not deleted: type "delete" to confirm')
        report = await run_in_threadpool(
            lambda: delete_documents(
                Selection(documents=(str(document_id),)),
                settings=settings,
                deleted_by="web",
                reason=form.get("reason") or None,
            )
        )
        outcome = report.outcomes[0]
        if outcome.action != "deleted":
            return _back(document_id, f"not deleted: {outcome.reason}")
        return RedirectResponse(f"/ui/search?{urlencode({'notice': f'deleted {outcome.name}'})}", status_code=303)

    @router.get("/entities")
    def entity_by_name(request: Request, name: str = "", project: str = "") -> Response:
        if (redirect := signed_out(request)) is not None:
            return redirect
        try:
            matches = match_entities(name, project_id=project or None, limit=1) if name.strip() else []
        except ExploreError:
            matches = []
        if not matches:
            return page(request, "missing.html", {"what": f"an entity like {name!r}"}, 404)
        return RedirectResponse(f"/ui/entities/{matches[0].entity_id}", status_code=303)

    @router.get("/entities/{entity_id}")
    def entity(request: Request, entity_id: int) -> Response:
        if (redirect := signed_out(request)) is not None:
            return redirect
        view = explore_entity_by_id(entity_id, settings=settings, limit=25)
        if view is None:
            return page(request, "missing.html", {"what": f"entity {entity_id}"}, 404)
        center = view.entity
        strongest = max((n["weight"] for n in view.neighbours), default=1)
        graph = {
            "nodes": [
                {
                    "id": f"e{center.entity_id}",
                    "label": center.name,
                    "kind": center.label,
                    "center": True,
                    "href": f"/ui/entities/{center.entity_id}",
                }
            ]
            + [
                {
                    "id": f"e{n['entity_id']}",
                    "label": n["name"],
                    "kind": n["label"],
                    "center": False,
                    "href": f"/ui/entities/{n['entity_id']}",
                }
                for n in view.neighbours
                if n.get("entity_id")
            ],
            "edges": [
                {
                    "source": f"e{center.entity_id}",
                    "target": f"e{n['entity_id']}",
                    "weight": n["weight"],
                    "width": 1 + 7 * math.sqrt(n["weight"] / strongest),
                }
                for n in view.neighbours
                if n.get("entity_id")
            ],
        }
        return page(request, "entity.html", {"view": view, "graph": graph})

    @router.get("/overview")
    def overview(request: Request) -> Response:
        if (redirect := signed_out(request)) is not None:
            return redirect
        current = snapshot(settings, window_minutes=60, inspect_timeout_s=1.0)
        return page(
            request,
            "overview.html",
            {
                "m": current,
                "charts": {
                    "statuses": current.statuses,
                    "queues": current.queues,
                    "latency": {stage: row.get("p50") for stage, row in current.latency.items()},
                },
            },
        )

    return router


def _back(document_id: int, notice: str) -> RedirectResponse:
    return RedirectResponse(f"/ui/documents/{document_id}?{urlencode({'notice': notice})}", status_code=303)


def _day(text: str) -> datetime | None:
    """A ``YYYY-MM-DD`` filter as the start of that day (UTC)."""
    return datetime.combine(date.fromisoformat(text), time.min, tzinfo=UTC) if text else None


def _original(document_id: int) -> tuple[str, str]:
    rows = fetch_all("SELECT object_key, sha256 FROM source_documents WHERE id = %(id)s", {"id": document_id})
    if not rows or not rows[0][0]:
        raise PermanentError("the document has no stored original")
    return rows[0][0], rows[0][1]
