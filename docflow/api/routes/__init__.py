"""The API's routes, one module per resource: ``documents`` (upload, status and history, reprocess,
delete, export), ``search``, ``entities``, ``account`` (who the caller is) and ``system`` (health,
metrics, the OpenAPI description and its browsable page). Each route declares its guard
(:mod:`docflow.api.access`: the role it needs, how it finds its project) and is a thin call into
:mod:`docflow.ops`; errors a caller can fix are 4xx with a plain ``detail``.
"""

from __future__ import annotations

from docflow.api.routes import account, documents, entities, search, system

ROUTERS = (system.router, account.router, documents.router, search.router, entities.router)

__all__ = ["ROUTERS"]
