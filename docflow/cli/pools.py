"""The production path for flows: ``deploy`` (a Prefect process work pool and the deployments of
``prefect.yaml``) and ``flow-worker`` (a Prefect worker for that pool on this machine)."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer

from docflow.cli.app import app
from docflow.core.settings import get_settings

Pool = Annotated[str, typer.Option("--pool", help="The Prefect work pool.")]


@app.command()
def deploy(pool: Pool = "docflow", as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Create the process work pool (if missing) and register every deployment of prefect.yaml on it."""
    from deployments.pool import deploy_all

    settings = get_settings()
    try:
        result = deploy_all(settings, pool=pool)
    except RuntimeError as exc:
        typer.secho(f"✘ {exc}", fg="red", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(
            json.dumps({"pool": result.pool, "created_pool": result.created_pool, "deployments": result.deployments})
        )
        return
    typer.echo(
        f"✔ work pool {result.pool!r} {'created' if result.created_pool else 'exists'} on {settings.prefect_ui_url}"
    )
    for name in result.deployments:
        typer.echo(f"  deployment {name}")
    typer.echo(
        f"  Run them with a Prefect worker on any machine with docflow installed: docflow flow-worker --pool {pool}"
    )
    typer.echo("  (or `prefect worker start --pool " + pool + "` with PREFECT_API_URL pointing at the server)")


@app.command("flow-worker")
def flow_worker(
    pool: Pool = "docflow",
    run_once: Annotated[bool, typer.Option(help="Poll once, run what is due, exit.")] = False,
    limit: Annotated[int | None, typer.Option(help="Most flow runs at once.")] = None,
) -> None:
    """A Prefect worker for the pool, pointed at the server in docflow's settings (foreground)."""
    from deployments.pool import worker_command
    from deployments.prefect_env import configure_prefect

    configure_prefect(get_settings())
    command = worker_command(pool=pool, run_once=run_once, limit=limit)
    os.execv(command[0], command)  # the worker owns the terminal and its signals from here
