"""The ``docflow`` Typer app; the command modules of this package add their commands to it."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="docflow: documents in, text, entities and a knowledge graph out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
