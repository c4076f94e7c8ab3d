"""Building the FastAPI application: its state, its routers, and the answers given in one place.

Everything a route needs from the app comes from ``app.state`` through :mod:`docflow.api.deps`
(the settings, the token check, the metrics registry, the limits). Two kinds of refusal are answered here,
once for every route and page: a page asked for without a session sends the browser to sign in
(:class:`~docflow.api.deps.SignInRequired`), and a value outside what a route accepts is a 422
with the reason — as JSON for programs, as a page for a browser under ``/ui``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

import docflow
from docflow.api import routes, web
from docflow.api.auth import TokenCheck
from docflow.api.deps import SignInRequired
from docflow.api.limits import Limits
from docflow.api.web.render import render
from docflow.core.resources import web_assets_dir
from docflow.core.settings import Settings, get_settings
from docflow.ops.metrics import registry_for
from docflow.ops.webhooks import WebhookDeliverer


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for ``settings`` (default: the process's); the token is resolved here, once."""
    settings = settings or get_settings()
    app = FastAPI(
        title="docflow",
        version=docflow.__version__,
        description="Submit documents, follow them, search what was extracted, reprocess, delete and export.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served by routes.system, behind the token
        lifespan=_deliver_webhooks,
        # Operation ids a generated client turns into function names: "documents-list_all".
        generate_unique_id_function=lambda route: f"{route.tags[0]}-{route.name}" if route.tags else route.name,
    )
    app.state.settings = settings
    app.state.token_check = TokenCheck(settings)
    app.state.metrics = registry_for(settings)
    app.state.limits = Limits(settings)
    for router in (*routes.ROUTERS, *web.ROUTERS):
        app.include_router(router)
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(RequestValidationError, _not_understood)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/overview", status_code=303)

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
