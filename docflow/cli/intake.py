"""Intake now: ``docflow intake`` (one sweep) and ``docflow watch`` (sweep on filesystem events)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from docflow.cli.app import app
from docflow.core.settings import get_settings


@app.command()
def intake(
    source: Annotated[
        str | None, typer.Argument(help="Folder or s3://bucket/prefix (default: the intake folder).")
    ] = None,
    project: Annotated[str | None, typer.Option(help="Project id (default from settings).")] = None,
    stable_seconds: Annotated[float, typer.Option(help="Take files unchanged for this long.")] = 10.0,
    batch_size: Annotated[int, typer.Option()] = 200,
    dry_run: Annotated[bool, typer.Option(help="Only report what would happen.")] = False,
    ocr_languages: Annotated[
        str | None, typer.Option("--ocr-languages", help='Tesseract languages for scans, e.g. "spa+eng".')
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Run one intake sweep now (the same code as the scheduled intake-sweep deployment)."""
    import json

    from docflow.ops import intake as intake_module

    settings = get_settings()
    options = intake_module.SweepOptions(
        source=source or str(settings.intake_dir),
        project_id=project or settings.project_id,
        stable_seconds=stable_seconds,
        batch_size=batch_size,
        dry_run=dry_run,
        ocr_languages=ocr_languages,
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
    from docflow.ops.watch import watch as watch_folder

    settings = get_settings()
    try:
        watch_folder(
            folder,
            settings=settings,
            project_id=project or settings.project_id,
            stable_seconds=stable_seconds,
            echo=typer.echo,
        )
    except KeyboardInterrupt:
        typer.echo("stopped")
