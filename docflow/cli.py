"""The ``docflow`` command line for operators."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from docflow.settings import get_settings

app = typer.Typer(help="docflow: documents in, text, entities and a knowledge graph out.", no_args_is_help=True,
                  pretty_exceptions_enable=False)

from docflow import cli_ops  # noqa: E402 - reconcile, monitor, health

cli_ops.register(app)

ServiceNames = Annotated[list[str] | None, typer.Argument(help="postgres, redis, s3, neo4j (default: all)")]


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
        from docflow import migrate

        migrate.upgrade()
        typer.echo(f"schema      at head {migrate.head_revision()}")


@app.command()
def down(names: ServiceNames = None) -> None:
    """Stop the local services docflow started (never a server it did not start)."""
    from docflow import services

    services.down(get_settings(), names, echo=typer.echo)


@app.command()
def migrate() -> None:
    """Apply the Alembic migrations up to head."""
    from docflow import migrate as migrations

    migrations.upgrade()
    typer.echo(f"schema at head {migrations.head_revision()}")


@app.command()
def verify(require_workers: Annotated[bool, typer.Option(help="Fail when no worker serves a queue.")] = False) -> None:
    """Go/no-go checklist: database, Redis, queues, object store, Neo4j, workers."""
    from docflow.verify import passed, run_checks

    checks = run_checks(get_settings(), require_workers=require_workers)
    for check in checks:
        colour = "green" if check.ok else ("yellow" if check.warning else "red")
        typer.secho(f"{check.mark} {check.name:<13} {check.detail}", fg=colour)
    ok = passed(checks)
    typer.secho("all checks passed" if ok else "verification FAILED", fg="green" if ok else "red", bold=True)
    raise typer.Exit(0 if ok else 1)


workers_app = typer.Typer(help="Start, stop and list Celery workers.", no_args_is_help=True)
app.add_typer(workers_app, name="workers")


@workers_app.command("start")
def workers_start(
    name: Annotated[str, typer.Option(help="Worker name (one pid file each).")] = "all",
    queues: Annotated[str | None, typer.Option(help="Comma-separated queues (default: all four).")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Processes (default from settings).")] = None,
    wait: Annotated[bool, typer.Option(help="Wait until the worker answers a ping.")] = True,
) -> None:
    """Start a worker in the background (idempotent)."""
    from docflow import workers

    settings = get_settings()
    workers.start(settings, name=name, queues=queues.split(",") if queues else None, concurrency=concurrency,
                  echo=typer.echo)
    if wait:
        typer.echo(f"responding: {', '.join(workers.wait_ready(settings, timeout=120))}")


@workers_app.command("stop")
def workers_stop(name: Annotated[str | None, typer.Option(help="Only this worker.")] = None,
                 timeout: Annotated[float, typer.Option(help="Seconds of warm shutdown before SIGKILL.")] = 60) -> None:
    """Warm shutdown of the workers docflow started."""
    from docflow import workers

    if not workers.stop(get_settings(), name=name, timeout=timeout, echo=typer.echo):
        typer.echo("no docflow worker was running")


@workers_app.command("status")
def workers_status() -> None:
    """List running workers (pid files) and what answers a ping."""
    from docflow import workers

    settings = get_settings()
    for name, pid in workers.running(settings).items():
        typer.echo(f"{name}: pid {pid}")
    from docflow.verify import check_workers

    check = check_workers(settings)
    typer.echo(f"{check.mark} {check.detail}")


def _print_transition(names: dict[int, str]):
    def show(document_id: int, status: str, error: str | None) -> None:
        suffix = f" — {error}" if error else ""
        typer.echo(f"  [{names.get(document_id, document_id)}] {status}{suffix}")

    return show


@app.command()
def submit(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="Documents to submit.")],
    project: Annotated[str | None, typer.Option(help="Project id (default from settings).")] = None,
    wait: Annotated[bool, typer.Option(help="Follow each document to a terminal status.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait.")] = 900,
) -> None:
    """Register (sha256 dedupe), store and submit documents; with --wait, follow them to the end.

    Exit status with --wait: 0 when every document reached graph_complete, 1 on any error_*,
    2 on timeout.
    """
    from docflow.progress import wait_for_documents
    from docflow.status import ERROR_STATUSES, Status
    from docflow.submit import ingest_file

    names: dict[int, str] = {}
    for path in files:
        result = ingest_file(path=path, project_id=project)
        names[result.document_id] = path.name
        if result.created:
            sent = result.submitted
            state = f"submitted, task {sent.task_id}" if sent and sent.success else f"registered, not yet sent ({sent.error if sent else ''})"
        else:
            state = f"duplicate of document {result.document_uuid} (status {result.status})"
        typer.echo(f"{path.name}: document {result.document_id} ({result.document_uuid}) {state}")
    if not wait:
        return
    final = wait_for_documents(names, timeout_s=timeout, on_change=_print_transition(names))
    errors = [d for d, status in final.items() if status in {s.value for s in ERROR_STATUSES}]
    unfinished = [d for d, status in final.items() if status not in {Status.GRAPH_COMPLETE.value} and d not in errors]
    if errors:
        raise typer.Exit(1)
    if unfinished:
        typer.secho(f"timed out after {timeout:.0f}s waiting for {len(unfinished)} document(s)", fg="red", err=True)
        raise typer.Exit(2)


@app.command()
def samples(directory: Annotated[Path, typer.Argument(help="Where to write the sample documents.")] = Path("samples/generated")) -> None:
    """Write the bundled sample documents (generated by code, deterministic)."""
    from docflow.samples import write_samples

    for path in write_samples(directory=directory):
        typer.echo(str(path))


@app.command()
def demo(
    directory: Annotated[Path, typer.Option(help="Where the samples are written.")] = Path("samples/generated"),
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the samples.")] = 900,
) -> None:
    """The main job: services up, workers started, the sample documents processed end to end."""
    from docflow import services, workers
    from docflow import migrate as migrations
    from docflow.progress import wait_for_documents
    from docflow.report import document_summary
    from docflow.samples import write_samples
    from docflow.submit import ingest_file

    settings = get_settings()
    services.up(settings, echo=typer.echo)
    migrations.upgrade()
    workers.start(settings, echo=typer.echo)
    workers.wait_ready(settings, timeout=120)
    names = {}
    for path in write_samples(directory=directory):
        result = ingest_file(path=path)
        names[result.document_id] = path.name
        typer.echo(f"{path.name}: document {result.document_id} "
                   f"{'submitted' if result.created else 'already known (' + result.status + ')'}")
    final = wait_for_documents(names, timeout_s=timeout, on_change=_print_transition(names))
    typer.echo("")
    for line in document_summary(list(names), names=names):
        typer.echo(line)
    if any(status != "graph_complete" for status in final.values()):
        raise typer.Exit(1)


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
    from docflow import workers
    from docflow.queues import queue_keys, redis_client

    settings = get_settings()
    workers.stop(settings, timeout=30, echo=typer.echo)
    client = redis_client(settings)
    for queue in settings.queues.values():
        removed = client.delete(*queue_keys(queue))
        typer.echo(f"queue {queue}: cleared ({removed} list(s) removed)")


@app.command()
def intake(
    source: Annotated[str | None, typer.Argument(help="Folder or s3://bucket/prefix (default: the intake folder).")] = None,
    project: Annotated[str | None, typer.Option(help="Project id (default from settings).")] = None,
    stable_seconds: Annotated[float, typer.Option(help="Take files unchanged for this long.")] = 10.0,
    batch_size: Annotated[int, typer.Option()] = 200,
    dry_run: Annotated[bool, typer.Option(help="Only report what would happen.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Run one intake sweep now (the same code as the scheduled intake-sweep deployment)."""
    import json

    from docflow import intake as intake_module

    settings = get_settings()
    options = intake_module.SweepOptions(
        source=source or str(settings.intake_dir), project_id=project or settings.project_id,
        stable_seconds=stable_seconds, batch_size=batch_size, dry_run=dry_run,
    )
    with typer.progressbar(length=1, label="sweeping") as bar:
        def on_batch(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        report = intake_module.sweep(options, settings, on_batch=on_batch)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    typer.echo(report.markdown())


@app.command()
def watch(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Folder to watch.")],
    project: Annotated[str | None, typer.Option(help="Project id (default from settings).")] = None,
    stable_seconds: Annotated[float, typer.Option(help="Take files unchanged for this long.")] = 5.0,
) -> None:
    """Watch a folder and submit files as soon as they stop changing (complements the scheduled sweep)."""
    from docflow.watch import watch as watch_folder

    settings = get_settings()
    try:
        watch_folder(folder, settings=settings, project_id=project or settings.project_id,
                     stable_seconds=stable_seconds, echo=typer.echo)
    except KeyboardInterrupt:
        typer.echo("stopped")


@app.command()
def status(document: Annotated[str | None, typer.Argument(help="Document id or uuid; omit for counts.")] = None) -> None:
    """One document's stage history, or the number of documents per status."""
    from docflow.report import document_history, status_counts

    lines = status_counts() if document is None else document_history(document)
    for line in lines:
        typer.echo(line)


@app.command()
def serve() -> None:
    """Register the Prefect deployments (intake-sweep, reconcile, pipeline-monitor) and run them."""
    from deployments.serve import main as serve_main

    serve_main()


def unreachable_service(exc: BaseException) -> str | None:
    """A one-line explanation when ``exc`` means a service is down, else None (a real bug)."""
    import redis.exceptions
    import sqlalchemy.exc
    from neo4j.exceptions import ServiceUnavailable

    settings = get_settings()
    if isinstance(exc, sqlalchemy.exc.OperationalError):
        where, name = f"{settings.db_host}:{settings.db_port}", "PostgreSQL"
    elif isinstance(exc, redis.exceptions.ConnectionError):
        host, port = settings.redis_host_port
        where, name = f"{host}:{port}", "Redis"
    elif isinstance(exc, ServiceUnavailable):
        where, name = settings.neo4j_uri, "Neo4j"
    else:
        return None
    detail = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0][:200]
    return f"{name} is unreachable at {where} ({detail}). Is it running? `docflow up` starts the local services."


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
