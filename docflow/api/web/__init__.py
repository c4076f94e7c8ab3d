"""The web pages for the people who use the results (search, documents, entities, an overview),
served by the API's process under ``/ui`` with the API's token."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from docflow.api.auth import TokenCheck
from docflow.api.web.pages import build_web_router
from docflow.core.resources import web_assets_dir
from docflow.core.settings import Settings

STATIC = Path(__file__).parent / "static"


def mount_web(app: FastAPI, settings: Settings, check: TokenCheck) -> None:
    """Add the pages, their stylesheet and scripts, and the npm libraries they use (no CDN)."""
    app.include_router(build_web_router(settings, check))
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="web-static")
    assets = web_assets_dir()
    if assets is not None:
        app.mount("/ui/assets", StaticFiles(directory=assets), name="web-assets")
