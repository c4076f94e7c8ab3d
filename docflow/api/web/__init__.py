"""The web pages for the people who use the results, served by the API's process under ``/ui``:
sign in (``signin``), search (``search``), a document (``documents``), an entity (``entities``),
an overview of the pipeline (``overview``) and a project's webhook deliveries (``webhooks``), one
module per page, each page one function.

Server-rendered (Jinja2, autoescaped: every file name, text and entity name is shown as text,
``render``), readable and usable without JavaScript; small scripts only draw the graph and the
charts, from data the page carries (``views``). Every page but sign-in needs a session
(:data:`docflow.api.deps.PageCaller`); page pictures are rendered on demand and cached
(``page_images``). The operator's actions (reprocess, delete) go through a confirmation page and
the same operations the CLI and the API run; a refusal shows its reason.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from docflow.api.web import documents, entities, overview, search, signin, webhooks
from docflow.api.web.render import STATIC
from docflow.core.resources import web_assets_dir

ROUTERS = (signin.router, search.router, documents.router, entities.router, overview.router, webhooks.router)


def mount_static(app: FastAPI) -> None:
    """The pages' stylesheet and scripts, and the npm libraries they use (no CDN)."""
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="web-static")
    assets = web_assets_dir()
    if assets is not None:
        app.mount("/ui/assets", StaticFiles(directory=assets), name="web-assets")
