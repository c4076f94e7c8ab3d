"""The web pages for the people who use the results, served by the API's process under ``/ui``:
sign in (``signin``), search (``search``), a document (``documents``), an entity (``entities``),
an overview of the pipeline (``overview``), a project's webhook deliveries (``webhooks``), one's
own account (``account``: password, API tokens) and the admin's pages (``admin``: users and
grants, the audit log), one module per page, each page one function.

Server-rendered (Jinja2, autoescaped: every file name, text and entity name is shown as text,
``render``), readable and usable without JavaScript; small scripts only draw the graph and the
charts, from data the page carries (``views``). Every page declares its guard
(:mod:`docflow.api.access`): without a session the browser is sent to sign in, and a document or
entity outside the user's projects is "not found". Every form carries a CSRF token. Page pictures
are rendered on demand and cached (``page_images``). The operator's actions (reprocess, delete)
go through a confirmation page and the same operations the CLI and the API run; a refusal shows
its reason.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from docflow.api.web import account, admin, documents, entities, overview, search, signin, webhooks
from docflow.api.web.render import STATIC
from docflow.core.resources import web_assets_dir

ROUTERS = (
    signin.root, signin.router, search.router, documents.router, entities.router, overview.router,
    account.router, admin.router, webhooks.router,
)  # fmt: skip


def mount_static(app: FastAPI) -> None:
    """The pages' stylesheet and scripts, and the npm libraries they use (no CDN)."""
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="web-static")
    assets = web_assets_dir()
    if assets is not None:
        app.mount("/ui/assets", StaticFiles(directory=assets), name="web-assets")
