"""The process itself: liveness, Prometheus metrics, the OpenAPI description and its browsable page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from docflow.api.access import Access, MetricsReader, Public, Signed
from docflow.api.schemas import Health
from docflow.core.resources import web_assets_dir

router = APIRouter()
SignedIn = Annotated[Access, Depends(Signed(None))]


@router.get("/health", tags=["health"])
def health(_: Annotated[None, Depends(Public())]) -> Health:
    """Liveness, for anyone: the process answers."""
    return Health(status="ok")


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics(request: Request, _: Annotated[None, Depends(MetricsReader())]) -> Response:
    """Prometheus text format, for an admin or the scrape token (``DOCFLOW_METRICS_TOKEN``: scrape with
    `authorization: {type: Bearer, credentials: <token>}`)."""
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, _: SignedIn) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs", include_in_schema=False)
def docs(_: SignedIn) -> Any:
    assets = web_assets_dir()
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
