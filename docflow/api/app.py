"""Building the FastAPI application: routes, the token check, the documentation pages."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

import docflow
from docflow.api.auth import TokenCheck
from docflow.api.routes import build_router
from docflow.api.web import mount_web
from docflow.core.resources import web_assets_dir
from docflow.core.settings import Settings, get_settings
from docflow.ops.metrics import registry_for


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API for ``settings`` (default: the process's); the token is resolved here, once."""
    settings = settings or get_settings()
    check = TokenCheck(settings)
    app = FastAPI(
        title="docflow",
        version=docflow.__version__,
        description="Submit documents, follow them, search what was extracted, reprocess, delete and export.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served below, behind the token
    )
    app.state.settings, app.state.token_check = settings, check

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness, without a token: the process answers."""
        return {"status": "ok"}

    app.include_router(build_router(settings), dependencies=[Depends(check)])
    mount_web(app, settings, check)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/overview", status_code=303)

    metrics = registry_for(settings)

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(check)])
    def prometheus_metrics() -> Response:
        """Prometheus text format (scrape with `authorization: {type: Bearer, credentials: <token>}`)."""
        return Response(generate_latest(metrics), media_type=CONTENT_TYPE_LATEST)

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(check)])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    assets = web_assets_dir()
    if assets is not None and (assets / "swagger-ui-dist").is_dir():
        app.mount("/assets/swagger-ui", StaticFiles(directory=assets / "swagger-ui-dist"), name="swagger-ui")

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(check)])
    def docs(request: Request) -> Any:
        if assets is None or not (assets / "swagger-ui-dist").is_dir():
            return HTMLResponse(
                "<p>The interactive documentation needs the web assets (<code>bash scripts/bootstrap.sh</code> "
                'installs them). The OpenAPI description is at <a href="/openapi.json">/openapi.json</a>.</p>'
            )
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="docflow API",
            swagger_js_url="/assets/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/assets/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/assets/swagger-ui/favicon-32x32.png",
        )

    return app
