"""Running the stack: ``up``, ``down``, ``migrate``, ``verify``, ``worker``, ``workers …``, ``serve``,
``emergency-stop``."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from docflow.cli.app import app
from docflow.core.settings import Settings, get_settings

ServiceNames = Annotated[
    list[str] | None, typer.Argument(help="postgres, redis, s3, neo4j, prefect, api (default: all)")
]


@app.command()
def up(names: ServiceNames = None, migrate_db: Annotated[bool, typer.Option("--migrate/--no-migrate")] = True) -> None:
    """Start the local services (idempotent) and bring the schema to head."""
    from docflow import services

    settings = get_settings()
    typer.echo(f"docflow up — data in {settings.data_dir.resolve()}")
    try:
        services.up(settings, names, echo=typer.echo)
    except services.ServiceError as exc:
        typer.secho(f"✘ {exc}", fg="red", err=True)
        raise typer.Exit(1) from None
    if migrate_db and (not names or "postgres" in names):
        migrate_with_first_admin(settings)


def migrate_with_first_admin(settings: Settings) -> None:
    """The schema at head, and the first admin on a new installation (its password generated, 0600)."""
    from docflow.core import migrate
    from docflow.ops.access.users import ensure_first_admin
    from docflow.ops.audit import os_actor

    migrate.upgrade()
    typer.echo(f"schema      at head {migrate.head_revision()}")
    created = ensure_first_admin(settings, by=os_actor())
    if created:
        typer.echo(f"first admin {settings.admin_user!r} created; password in {created} (0600)")


@app.command()
def down(names: ServiceNames = None) -> None:
    """Stop the local services docflow started (never a server it did not start)."""
    from docflow import services

    services.down(get_settings(), names, echo=typer.echo)


@app.command()
def migrate() -> None:
    """Apply the Alembic migrations up to head."""
    from docflow.core import migrate as migrations

    migrations.upgrade()
    typer.echo(f"schema at head {migrations.head_revision()}")


@app.command()
def verify(require_workers: Annotated[bool, typer.Option(help="Fail when no worker serves a queue.")] = False) -> None:
    """Go/no-go checklist: database, Redis, queues, object store, Neo4j, workers."""
    from docflow.ops.verify import passed, run_checks

    checks = run_checks(get_settings(), require_workers=require_workers)
    for check in checks:
        colour = "green" if check.ok else ("yellow" if check.warning else "red")
        typer.secho(f"{check.mark} {check.name:<13} {check.detail}", fg=colour)
    ok = passed(checks)
    typer.secho("all checks passed" if ok else "verification FAILED", fg="green" if ok else "red", bold=True)
    raise typer.Exit(0 if ok else 1)


workers_app = typer.Typer(help="Start, stop and list Celery workers.", no_args_is_help=True)
app.add_typer(workers_app, name="workers")


Queues = Annotated[
    str | None,
    typer.Option(
        help="Comma-separated stages/queues this worker serves, e.g. ocr or text,entity,graph (default: all four)."
    ),
]
Hostname = Annotated[
    str | None,
    typer.Option(help="Node name in verify, monitor and reconcile, e.g. ocr-node@%h (%h: this machine's host name)."),
]
Autoscale = Annotated[
    str | None,
    typer.Option(help="MAX,MIN processes, e.g. 4,1: grow under load, shrink when idle (instead of --concurrency)."),
]


def _worker_options(queues: str | None, autoscale: str | None) -> tuple[list[str], str | None]:
    from docflow.services import workers

    try:
        return workers.parse_queues(get_settings(), queues), workers.parse_autoscale(autoscale) if autoscale else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command()
def worker(
    queues: Queues = None,
    hostname: Hostname = None,
    concurrency: Annotated[int | None, typer.Option(help="Processes (default from settings).")] = None,
    autoscale: Autoscale = None,
) -> None:
    """Run a Celery worker node in the foreground: what a worker machine (or its service unit) runs.

    The machine needs docflow installed and the DOCFLOW_* URLs and credentials of the shared
    PostgreSQL, Redis, S3 store and Neo4j; no services, no checkout, no data folder.
    """
    from docflow.services import workers

    settings = get_settings()
    chosen, scale = _worker_options(queues, autoscale)
    name = "all" if set(chosen) == set(settings.queues.values()) else "-".join(chosen)
    command = workers.worker_command(
        settings,
        name=name,
        queues=chosen,
        concurrency=concurrency or settings.worker_concurrency,
        hostname=hostname,
        autoscale=scale,
    )
    typer.echo(f"worker node on queues {','.join(chosen)}: {' '.join(command[1:])}")
    os.environ.update(workers.WORKER_ENV)
    os.execv(command[0], command)  # Celery owns the process and its signals (warm shutdown on SIGTERM)


@workers_app.command("start")
def workers_start(
    name: Annotated[str, typer.Option(help="Worker name (one pid file each).")] = "all",
    queues: Queues = None,
    concurrency: Annotated[int | None, typer.Option(help="Processes (default from settings).")] = None,
    hostname: Hostname = None,
    autoscale: Autoscale = None,
    wait: Annotated[bool, typer.Option(help="Wait until the worker answers a ping.")] = True,
) -> None:
    """Start a worker in the background (idempotent); `docflow worker` runs one in the foreground."""
    from docflow.services import workers

    settings = get_settings()
    chosen, scale = _worker_options(queues, autoscale)
    workers.start(
        settings,
        name=name,
        queues=chosen,
        concurrency=concurrency,
        hostname=hostname,
        autoscale=scale,
        echo=typer.echo,
    )
    if wait:
        typer.echo(f"responding: {', '.join(workers.wait_ready(settings, timeout=120))}")


@workers_app.command("stop")
def workers_stop(
    name: Annotated[str | None, typer.Option(help="Only this worker.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds of warm shutdown before SIGKILL.")] = 60,
) -> None:
    """Warm shutdown of the workers docflow started."""
    from docflow.services import workers

    if not workers.stop(get_settings(), name=name, timeout=timeout, echo=typer.echo):
        typer.echo("no docflow worker was running")


@workers_app.command("status")
def workers_status() -> None:
    """List running workers (pid files) and what answers a ping."""
    from docflow.services import workers

    settings = get_settings()
    for name, pid in workers.running(settings).items():
        typer.echo(f"{name}: pid {pid}")
    from docflow.ops.verify import check_workers

    check = check_workers(settings)
    typer.echo(f"{check.mark} {check.detail}")


@app.command()
def emergency_stop(
    confirm: Annotated[str, typer.Option(help="Type the word PURGE to confirm.")] = "",
) -> None:
    """Rollback path: stop every docflow worker and clear the four stage queues.

    Documents keep their rows; reconcile re-drives them after the emergency (Redis is a transport).
    """
    if confirm != "PURGE":
        typer.secho("refusing: pass --confirm PURGE to stop workers and clear the queues", fg="red", err=True)
        raise typer.Exit(2)
    from docflow.core.broker import queue_keys, redis_client
    from docflow.services import workers

    settings = get_settings()
    workers.stop(settings, timeout=30, echo=typer.echo)
    client = redis_client(settings)
    for queue in settings.queues.values():
        removed = client.delete(*queue_keys(queue))
        typer.echo(f"queue {queue}: cleared ({removed} list(s) removed)")


@app.command()
def serve() -> None:
    """Register the Prefect deployments (intake-sweep, reconcile, pipeline-monitor) and run them."""
    from deployments.serve import main as serve_main

    serve_main()


@app.command()
def api(
    host: Annotated[str | None, typer.Option(help="Address to bind (default from settings: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings).")] = None,
) -> None:
    """Serve the HTTP API in the foreground (`docflow up` runs it in the background)."""
    import uvicorn

    from docflow.core.secrets import api_token, secrets_dir

    settings = get_settings()
    settings = settings.model_copy(update={k: v for k, v in {"api_host": host, "api_port": port}.items() if v})
    api_token(settings, create=True)
    where = "DOCFLOW_API_TOKEN" if settings.api_token else secrets_dir(settings) / "api-token"
    typer.echo(f"docflow API on {settings.api_url} (docs at /docs; bearer token in {where})")
    from docflow.api import create_app

    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port)
