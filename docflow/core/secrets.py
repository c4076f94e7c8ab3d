"""Secrets docflow generates for itself: written once with 0600 permissions, never printed.

A secret set in the settings (``DOCFLOW_<NAME>``) always wins; otherwise it lives in a file under
``<data_dir>/secrets/`` that the first ``docflow up`` (or the first server that needs it) creates
with a strong random value. Commands and servers read the file; nothing echoes its content.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from docflow.core.settings import Settings


def secrets_dir(settings: Settings) -> Path:
    return settings.data_dir.resolve() / "secrets"


def generated_secret(settings: Settings, name: str, *, create: bool = True) -> SecretStr | None:
    """The secret stored as ``<data_dir>/secrets/<name>``; created (0600, 32 random bytes) if missing."""
    path = secrets_dir(settings) / name
    if path.exists():
        return SecretStr(path.read_text().strip())
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    value = secrets.token_urlsafe(32)
    # O_EXCL: two processes creating it at once cannot both win and hand out different values.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return SecretStr(path.read_text().strip())
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value + "\n")
    return SecretStr(value)


def api_token(settings: Settings, *, create: bool = True) -> SecretStr | None:
    """The HTTP API's bearer token: ``DOCFLOW_API_TOKEN``, or the generated one."""
    return settings.api_token or generated_secret(settings, "api-token", create=create)
