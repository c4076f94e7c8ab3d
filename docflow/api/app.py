"""Building the FastAPI application: its state, its routers, and the answers given in one place.

Everything a route needs from the app comes from ``app.state`` through :mod:`docflow.api.deps`
(the settings, the credentials, the metrics registry, the limits). Refusals are answered here,
once for every route and page: a page asked for without a session sends the browser to sign in
(:class:`~docflow.api.access.SignInRequired`); access refused by a route's guard
(:class:`~docflow.api.access.Refused`) is a 401/403/404 with the reason — JSON for programs, a
page under ``/ui``; a form without its CSRF token is a 403 page; a value outside what a route
accepts is a 422 with the reason.

On start the app makes sure the installation has its first admin (the legacy single token is that
user's), so an API started on a fresh database is usable at once; while it runs, it sends the
projects' webhooks (:mod:`docflow.ops.webhooks`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

import docflow
from docflow.api import oidc, routes, web
from docflow.api.access import Refused, SignInRequired
from docflow.api.auth import Credentials
from docflow.api.csrf import CsrfRefused
from docflow.api.limits import Limits
from docflow.api.web.render import render
from docflow.core.resources import web_assets_dir
from docflow.core.settings import Settings, get_settings
from docflow.ops.access.users import ensure_first_admin
from docflow.ops.audit import Actor
from docflow.ops.metrics import registry_for
from docflow.ops.webhooks import WebhookDeliverer

log = logging.getLogger("docflow.api")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for ``settings`` (default: the process's); its secrets are resolved here, once."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            created = await run_in_threadpool(ensure_first_admin, settings, by=Actor("system:api"))
        except Exception as exc:  # noqa: BLE001 - the API still starts; `docflow up` creates the admin too
            log.warning("could not make sure the first admin exists: %s", type(exc).__name__)
        else:
            if created:
                log.warning("created the first admin %r; password in %s", settings.admin_user, created)
        async with _deliver_webhooks(app):
            yield

    app = FastAPI(
        title="docflow",
        version=docflow.__version__,
        description="Submit documents, follow them, search what was extracted, reprocess, delete and export.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served by routes.system, to callers who are signed in
        lifespan=lifespan,
        # Operation ids a generated client turns into function names: "documents-list_all".
        generate_unique_id_function=lambda route: f"{route.tags[0]}-{route.name}" if route.tags else route.name,
    )
    app.state.settings = settings
    app.state.credentials = Credentials(settings)
    app.state.metrics = registry_for(settings)
    app.state.limits = Limits(settings)
    for router in (*routes.ROUTERS, *web.ROUTERS):
        app.include_router(router)
    oidc.install(app, settings)
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
    app.add_exception_handler(RequestValidationError, _not_understood)
    web.mount_static(app)
    assets = web_assets_dir()
    if assets is not None and (assets / "swagger-ui-dist").is_dir():
        app.mount("/assets/swagger-ui", StaticFiles(directory=assets / "swagger-ui-dist"), name="swagger-ui")
    return app


@asynccontextmanager
async def _deliver_webhooks(app: FastAPI) -> AsyncIterator[None]:
    """The API process sends the projects' webhooks while it runs (ops/webhooks.py)."""
    settings: Settings = app.state.settings
    deliverer = WebhookDeliverer(settings) if settings.webhook_poll_s > 0 else None
    if deliverer is not None:
        deliverer.start()
    try:
        yield
    finally:
        if deliverer is not None:
            deliverer.stop()


async def _sign_in(request: Request, exc: Exception) -> Response:
    target = exc.target if isinstance(exc, SignInRequired) else "/ui/overview"
    return RedirectResponse(f"/ui/login?next={quote(target)}", status_code=303)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    if exc.page:
        template = "missing.html" if exc.status_code == 404 else "refused.html"
        return render(request, template, {"what": exc.reason, "reasons": [exc.reason]}, exc.status_code)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return JSONResponse({"detail": exc.reason}, status_code=exc.status_code, headers=headers)


async def _csrf_refused(request: Request, exc: Exception) -> Response:
    reason = "This form has expired or did not come from these pages: reload the page and send it again."
    if request.url.path.startswith("/ui/"):
        return render(request, "refused.html", {"reasons": [reason]}, 403)
    return JSONResponse({"detail": reason}, status_code=403)


async def _not_understood(request: Request, exc: Exception) -> Response:
    # Where and why, not the value sent back: it may be what could not be read (a lone surrogate).
    errors = [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
        for error in (exc.errors() if isinstance(exc, RequestValidationError) else [])
    ]
    if request.url.path.startswith("/ui/"):
        reasons = [f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in errors]
        return render(request, "refused.html", {"reasons": reasons}, 422)
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)
