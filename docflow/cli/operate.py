"""Operator commands: ``docflow reconcile``, ``docflow monitor`` and ``docflow health``.

Exit codes: ``reconcile`` 0 when all OK, 1 when
problems were found (after repair, when repairing); ``health`` 0 healthy, 1 unhealthy.
"""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from docflow.cli.app import app
from docflow.core.settings import get_settings


@app.command()
def reconcile(
    repair: Annotated[
        bool, typer.Option("--repair", help="Re-drive LOST/STUCK documents, remove waiting ORPHAN messages.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    grace: Annotated[
        float, typer.Option("--grace", help="Grace period (s) before a missing message counts as LOST.")
    ] = 120.0,
    stuck: Annotated[float, typer.Option("--stuck", help="Seconds before an unheld delivery counts as STUCK.")] = 300.0,
    project: Annotated[str | None, typer.Option("--project", help="Only this project's documents.")] = None,
    max_repairs: Annotated[int, typer.Option("--max-repairs", help="At most this many re-drives.")] = 100,
    inspect_timeout: Annotated[float, typer.Option("--inspect-timeout", help="Seconds to wait for workers.")] = 1.5,
) -> None:
    """Compare status rows with Redis and the live workers; report (and with --repair, fix) what is wrong."""
    from docflow.ops.reconcile import run_reconcile

    report = run_reconcile(
        get_settings(),
        grace_period_s=grace,
        stuck_threshold_s=stuck,
        project_id=project,
        repair_problems=repair,
        max_repairs=max_repairs,
        inspect_timeout_s=inspect_timeout,
    )
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        typer.echo(report.markdown())
    raise typer.Exit(0 if report.healthy else 1)


@app.command()
def monitor(
    watch: Annotated[float | None, typer.Option("--watch", help="Refresh every N seconds until Ctrl-C.")] = None,
    window: Annotated[int, typer.Option("--window", help="Throughput window in minutes.")] = 15,
    as_json: Annotated[bool, typer.Option("--json", help="Print the snapshot as JSON.")] = False,
) -> None:
    """Documents per status, errors by stage, queues, workers, throughput and p50/p95 time per stage."""
    from docflow.ops.monitor import snapshot

    settings = get_settings()
    while True:
        current = snapshot(settings, window_minutes=window)
        if watch and not as_json:
            typer.echo("\x1b[2J\x1b[H", nl=False)  # clear the screen between refreshes
        typer.echo(json.dumps(current.to_dict(), indent=2) if as_json else current.markdown())
        if not watch:
            return
        try:
            time.sleep(watch)
        except KeyboardInterrupt:
            return


@app.command()
def health(
    inspect_timeout: Annotated[float, typer.Option("--inspect-timeout", help="Seconds to wait for workers.")] = 1.0,
) -> None:
    """Exit 0 when healthy, 1 with every reason when not (queues over threshold, no worker, Redis/DB down)."""
    from docflow.ops.monitor import health as check

    healthy, reasons = check(get_settings(), inspect_timeout_s=inspect_timeout)
    if healthy:
        typer.secho("healthy", fg="green")
        return
    typer.secho("UNHEALTHY", fg="red", bold=True)
    for reason in reasons:
        typer.echo(f"- {reason}")
    raise typer.Exit(1)


@app.command()
def metrics(
    port: Annotated[int, typer.Option(help="Port of the exporter.")] = 9108,
    host: Annotated[str, typer.Option(help="Address to bind (loopback unless asked).")] = "127.0.0.1",
) -> None:
    """Serve Prometheus metrics (queues, statuses, stage durations, errors, reconcile, workers) until Ctrl-C.

    The HTTP API serves the same at /metrics behind its token; this exporter needs none, so it binds
    to loopback unless told otherwise.
    """
    from prometheus_client import start_http_server

    from docflow.ops.metrics import registry_for

    server, thread = start_http_server(port, addr=host, registry=registry_for(get_settings()))
    typer.echo(f"metrics on http://{host}:{port}/metrics (Ctrl-C to stop)")
    try:
        while thread.is_alive():
            thread.join(timeout=1.0)
    except KeyboardInterrupt:
        server.shutdown()
