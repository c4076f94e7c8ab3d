"""Point the Prefect client at the server docflow's settings name.

Prefect reads its own configuration from ``PREFECT_*`` environment variables. docflow's single
settings object decides them (``DOCFLOW_PREFECT_API_URL``, ``DOCFLOW_PREFECT_API_KEY``, the basic-auth
string of the server docflow starts) and this function hands them to Prefect before its first import,
unless the operator already set Prefect's own variables (an existing server or Prefect Cloud profile wins).
"""

from __future__ import annotations

import os

from docflow.core.secrets import prefect_auth_string
from docflow.core.settings import Settings


def configure_prefect(settings: Settings) -> None:
    os.environ.setdefault("PREFECT_API_URL", settings.prefect_api_url)
    if settings.prefect_api_key is not None:
        os.environ.setdefault("PREFECT_API_KEY", settings.prefect_api_key.get_secret_value())
    else:
        # Prefect Cloud authenticates by key (and an auth string would take precedence over it).
        auth = prefect_auth_string(settings)
        if auth is not None:
            os.environ.setdefault("PREFECT_API_AUTH_STRING", auth.get_secret_value())
    # Telemetry off: this machine has no internet and operators did not ask for it.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
