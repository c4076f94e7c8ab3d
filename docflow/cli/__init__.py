"""The ``docflow`` command line for operators.

The commands live in the modules of this package by what they are for — :mod:`.stack` (services,
schema, verify, workers, serve, the API), :mod:`.pools` (a Prefect work pool and its worker),
:mod:`.documents` (submit, status, samples, the demo), :mod:`.intake` (sweep and watch),
:mod:`.operate` (reconcile, monitor, health, metrics) and :mod:`.lifecycle` (search, entity,
reprocess, delete, export, import-graph, vocabulary) — and register on one Typer app (:mod:`.app`);
:mod:`.errors` turns a service that is down into one line.
"""

from __future__ import annotations

import sys

import typer

from docflow.cli import documents, entities, intake, lifecycle, operate, pools, stack  # noqa: F401 - each module registers its commands
from docflow.cli.app import app
from docflow.cli.errors import unreachable_service


def main() -> None:
    """Console entry point: a service that is down is one clear line and exit code 3, not a traceback."""
    try:
        app()
    except Exception as exc:
        message = unreachable_service(exc)
        if message is None:
            raise
        typer.secho(f"✘ {message}", fg="red", err=True)
        sys.exit(3)


__all__ = ["app", "main", "unreachable_service"]
