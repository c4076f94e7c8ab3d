"""Where docflow keeps the service secrets it generates: one file per secret under
``<data_dir>/secrets/`` (created by :func:`docflow.core.secrets.ensure_secrets`, read by the settings)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

# Settings field -> file name under <data_dir>/secrets/ of the secrets docflow generates.
GENERATED_SECRETS = {
    "db_password": "db-password",
    "redis_password": "redis-password",
    "s3_access_key": "s3-access-key",
    "s3_secret_key": "s3-secret-key",
    "neo4j_password": "neo4j-password",
}


def read_secret_files(data_dir: Path, *, skip: Collection[str] = ()) -> dict[str, str]:
    """Field -> value of each generated secret whose file exists (fields in ``skip`` left out).

    Only reads: a missing file stays missing (an empty one means "none", e.g. a Redis without a
    password from before docflow generated secrets).
    """
    found = {}
    for field, name in GENERATED_SECRETS.items():
        if field in skip:
            continue
        try:
            found[field] = (data_dir / "secrets" / name).read_text().strip()
        except OSError:
            continue
    return found
