"""The API's routes, one module per resource: ``documents`` (upload, status and history, reprocess,
delete, export), ``contents`` (list documents; a document's text, chunks, entities, page pictures),
``operations`` (reprocess or delete a selection, sweep intake), ``search``, ``entities``,
``relationships`` (an entity's and a document's typed relationships with their evidence),
``webhooks`` (a project's webhook and its delivery log), and ``system`` (health, metrics, the
OpenAPI description and its browsable page). Each route is a thin call into :mod:`docflow.ops`;
errors a caller can fix are 4xx with a plain ``detail``.
"""

from __future__ import annotations

from docflow.api.routes import contents, documents, entities, operations, relationships, search, system, webhooks

ROUTERS = (
    system.router,
    contents.router,
    operations.router,
    documents.router,
    search.router,
    entities.router,
    relationships.router,
    webhooks.router,
)

__all__ = ["ROUTERS"]
