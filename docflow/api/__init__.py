"""docflow's HTTP API (FastAPI): what the CLI offers, for other systems.

``create_app()`` builds it from the settings; ``docflow api`` serves it with uvicorn (and
``docflow up`` starts it), bound to 127.0.0.1 by default. Every route but ``/health`` needs a
credential (:mod:`.deps`: a session, a personal token, or the installation's token) and declares
what it allows in which projects (:mod:`.access`); the OpenAPI description is at ``/openapi.json``
and browsable at ``/docs``.
"""

from __future__ import annotations

from docflow.api.app import create_app

__all__ = ["create_app"]
