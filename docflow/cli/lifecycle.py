"""After processing: ``reprocess``, ``delete``, ``search``, ``entity``, ``export``, ``import-graph``
and a project's ``vocabulary``.

Every command takes ``--json``. A selection or a query that cannot be run is one line on stderr
and exit code 2; exit 1 means the command ran and something in it was refused or failed.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from docflow.cli.app import app
from docflow.core.settings import get_settings
from docflow.core.status import Stage

Documents = Annotated[list[str] | None, typer.Argument(help="Document ids or uuids.", show_default=False)]
Project = Annotated[str | None, typer.Option("--project", help="Only this project's documents.")]
Status_ = Annotated[list[str] | None, typer.Option("--status", help="Documents in this status (repeatable).")]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _fail(message: str) -> NoReturn:
    typer.secho(f"✘ {message}", fg="red", err=True)
    raise typer.Exit(2)


def _user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (containers)
        return "cli"


def _guarded(run: Callable[[], Any]) -> Any:
    """Run an operation; a selection or query the user must fix becomes one line, not a traceback."""
    from docflow.ops.lifecycle.explore import ExploreError
    from docflow.ops.lifecycle.search import SearchError
    from docflow.ops.lifecycle.selection import SelectionError

    try:
        return run()
    except (SelectionError, SearchError, ExploreError, ValueError) as exc:
        _fail(str(exc))


@app.command()
def reprocess(
    documents: Documents = None,
    status: Status_ = None,
    project: Project = None,
    outdated: Annotated[
        list[str] | None,
        typer.Option(
            "--outdated",
            help="Documents whose result for this stage came from another pipeline version (repeatable).",
        ),
    ] = None,
    made_with: Annotated[
        list[str] | None,
        typer.Option(
            "--made-with",
            help='stage=TEXT: the stage\'s recorded version contains TEXT, e.g. entity="en_core_web_sm 3.7".',
        ),
    ] = None,
    from_stage: Annotated[Stage, typer.Option("--from", help="The stage to start again from.")] = Stage.OCR,
    force: Annotated[
        bool, typer.Option(help="Also restart documents in flight (their current work is dropped).")
    ] = False,
    dry_run: Annotated[bool, typer.Option(help="Only say what would be reprocessed.")] = False,
    limit: Annotated[int | None, typer.Option(help="At most this many documents.")] = None,
    reason: Annotated[str, typer.Option(help="Recorded in each document's stage history.")] = "",
    as_json: Json = False,
) -> None:
    """Run documents through the pipeline again from a stage (by id, status, project or pipeline version)."""
    from docflow.ops.lifecycle.reprocess import reprocess as run
    from docflow.ops.lifecycle.selection import Selection

    selection = Selection(
        tuple(documents or ()), tuple(status or ()), project, tuple(outdated or ()), tuple(made_with or ()), limit
    )
    report = _guarded(
        lambda: run(
            selection,
            from_stage=from_stage,
            settings=get_settings(),
            requested_by=_user(),
            reason=reason,
            force=force,
            dry_run=dry_run,
        )
    )
    typer.echo(json.dumps(report.to_dict(), indent=2) if as_json else report.markdown())
    if not report.outcomes:
        _fail(f"no document matches: {selection.describe()}")
    if any(o.action in ("refused", "missing") for o in report.outcomes):
        raise typer.Exit(1)


@app.command()
def delete(
    documents: Documents = None,
    project: Project = None,
    confirm: Annotated[str, typer.Option(help="With --project: type the project id again to confirm.")] = "",
    reason: Annotated[str | None, typer.Option(help="Recorded in the deletion audit.")] = None,
    as_json: Json = False,
) -> None:
    """Delete documents and everything derived from them (rows, graph, stored original); audited."""
    from docflow.ops.lifecycle.delete import delete_documents
    from docflow.ops.lifecycle.selection import Selection

    if not documents and not project:
        _fail("name the documents to delete (ids or uuids), or a --project")
    if project and not documents and confirm != project:
        _fail(f"deleting every document of project {project!r}: pass --confirm {project} to go ahead")
    selection = Selection(documents=tuple(documents or ()), project_id=project)
    report = _guarded(lambda: delete_documents(selection, settings=get_settings(), deleted_by=_user(), reason=reason))
    typer.echo(json.dumps(report.to_dict(), indent=2) if as_json else report.markdown())
    if not report.outcomes:
        _fail(f"no document matches: {selection.describe()}")
    if any(o.action != "deleted" for o in report.outcomes):
        raise typer.Exit(1)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help='Words, "a phrase", or, -excluded.')],
    project: Project = None,
    file_type: Annotated[str | None, typer.Option("--type", help="pdf, image, docx, eml, txt.")] = None,
    status: Annotated[str | None, typer.Option(help="Only documents in this status.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Registered on or after (YYYY-MM-DD).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Registered before (YYYY-MM-DD).")] = None,
    limit: Annotated[int, typer.Option(help="Hits per page.")] = 10,
    offset: Annotated[int, typer.Option(help="Skip this many hits (paging).")] = 0,
    as_json: Json = False,
) -> None:
    """Full-text search over the extracted text: ranked hits with document, pages and a snippet."""
    from docflow.ops.lifecycle.search import SearchFilters, search_chunks

    filters = SearchFilters(project, file_type, status, since, until)
    results = _guarded(lambda: search_chunks(query, filters=filters, limit=limit, offset=offset))
    if as_json:
        typer.echo(json.dumps(results.to_dict(), indent=2, ensure_ascii=False))
        return
    if not results.hits:
        typer.echo(f"no match for {query!r}")
        raise typer.Exit(1)
    bold, plain = ("\x1b[1;33m", "\x1b[0m") if sys.stdout.isatty() else ("[", "]")
    for number, hit in enumerate(results.hits, start=offset + 1):
        typer.echo(
            f"{number:>3}. {hit.name}  (document {hit.document_id}, {hit.pages}, {hit.status}, rank {hit.rank:.3f})"
        )
        typer.echo("     " + " ".join(hit.plain_snippet(bold, plain).split()))
    if results.has_more:
        typer.echo(f"… more: --offset {offset + limit}")
    if results.capped:
        from docflow.ops.lifecycle.search import RANKED_CANDIDATES

        typer.echo(f"(more than {RANKED_CANDIDATES:,} chunks match: ranked among the first found; add words to narrow)")


@app.command()
def entity(
    name: Annotated[str, typer.Argument(help="An entity name; close spellings match too.")],
    project: Project = None,
    limit: Annotated[int, typer.Option(help="Documents and neighbours shown.")] = 20,
    as_json: Json = False,
) -> None:
    """The documents and pages that mention an entity, what they state about it, and who appears with it."""
    from docflow.ops.lifecycle.explore import explore_entity
    from docflow.ops.lifecycle.relations import entity_relationships

    view = _guarded(lambda: explore_entity(name, settings=get_settings(), project_id=project, limit=limit))
    if view is None:
        if as_json:
            typer.echo(json.dumps(None))
        typer.secho(f"no entity like {name!r}" + (f" in project {project}" if project else ""), err=True)
        raise typer.Exit(1)
    typed = _guarded(lambda: entity_relationships(view.entity.entity_id, limit=limit))
    edges = typed.edges if typed is not None else []
    if as_json:
        payload = {**view.to_dict(), "relationships": [edge.to_dict() for edge in edges]}
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    e = view.entity
    typer.echo(f"{e.name} ({e.label}, project {e.project_id}) — in {e.documents} document(s); from {view.source}")
    typer.echo("\nmentioned in:")
    for doc in view.documents:
        pages = ", ".join(map(str, doc["pages"]))
        typer.echo(f"  {doc['name']}  pages {pages}  ({doc['mentions']} mention(s))")
    typer.echo("\nwhat the documents say:")
    for edge in edges:
        evidence = edge.evidence[0] if edge.evidence else None
        where = f"{edge.document_name} p. {evidence.page}" if evidence else edge.document_name
        typer.echo(f"  {edge.statement}  [{where}, {edge.producer}, {edge.confidence:.2f}]")
        if evidence:
            typer.echo(f"      “{' '.join(evidence.sentence.split())[:160]}”")
    if not edges:
        typer.echo("  no typed relationship")
    typer.echo("\nappears with:")
    for other in view.neighbours or []:
        typer.echo(
            f"  {other['name']} ({other['label']})  weight {other['weight']} in {other['documents']} document(s)"
        )
    if not view.neighbours:
        typer.echo("  nobody else")
    if view.other_matches:
        typer.echo("\nother matches: " + ", ".join(f"{m.name} ({m.label})" for m in view.other_matches[:5]))


@app.command()
def export(
    documents: Documents = None,
    project: Project = None,
    status: Status_ = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="A file (default: standard output).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON (with --output).")] = False,
) -> None:
    """Stream documents as JSON Lines: text, chunks with pages, entities, relationships (graph-complete)."""
    from docflow.ops.lifecycle.export import export_documents
    from docflow.ops.lifecycle.selection import Selection

    selection = Selection(documents=tuple(documents or ()), statuses=tuple(status or ()), project_id=project)
    if output is None:
        summary = _guarded(lambda: export_documents(selection, out=sys.stdout))
    else:
        with output.open("w", encoding="utf-8") as out:
            summary = _guarded(lambda: export_documents(selection, out=out))
    line = {
        "documents": summary.documents,
        "chunks": summary.chunks,
        "entities": summary.entities,
        "relationships": summary.relationships,
        "output": str(output) if output else "-",
    }
    typer.echo(
        json.dumps(line)
        if as_json
        else f"exported {summary.documents} document(s) "
        f"({summary.chunks} chunks, {summary.entities} entities) to {line['output']}",
        err=output is None,
    )
    if summary.documents == 0:
        raise typer.Exit(1)


@app.command("import-graph")
def import_graph_command(
    source: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A file written by `docflow export`.")],
    as_json: Json = False,
) -> None:
    """Write the graph of exported documents into Neo4j (an empty one, or over the same documents)."""
    from docflow.ops.lifecycle.export import import_graph

    with source.open(encoding="utf-8") as lines:
        summary = _guarded(lambda: import_graph(lines, settings=get_settings()))
    result = {
        "documents": summary.documents,
        "chunks": summary.chunks,
        "entities": summary.entities,
        "relationships": summary.relationships,
    }
    typer.echo(json.dumps(result) if as_json else f"imported the graph of {summary.documents} document(s)")


vocabulary_app = typer.Typer(help="A project's known names (customers, vessels, counterparties), matched exactly.")
app.add_typer(vocabulary_app, name="vocabulary")


@vocabulary_app.command("load")
def vocabulary_load(
    file: Annotated[Path, typer.Argument(help="CSV (name,label,aliases with ';' between aliases) or JSON Lines.")],
    project: Annotated[str, typer.Option("--project", help="The project the names belong to.")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv or jsonl (default: from the extension).")] = None,
    replace: Annotated[bool, typer.Option(help="Remove the project's names that the file does not list.")] = False,
    as_json: Json = False,
) -> None:
    """Load a vocabulary file into a project: its names win over the model in the project's documents."""
    from docflow.ops.vocabulary import load_vocabulary, read_vocabulary_file

    entries = _guarded(lambda: read_vocabulary_file(file, fmt=fmt))
    loaded = _guarded(lambda: load_vocabulary(project_id=project, entries=entries, replace=replace))
    if as_json:
        typer.echo(json.dumps(loaded.to_dict()))
        return
    typer.echo(
        f"✔ {project}: {loaded.entries_in_file} names read, {loaded.inserted} new, {loaded.updated} updated, "
        f"{loaded.removed} removed; {loaded.total} in the vocabulary (hash {loaded.vocabulary_hash[:12]})"
    )
    typer.echo(
        "  Documents processed from now on use it; re-run earlier ones with "
        f"`docflow reprocess --project {project} --from entity`."
    )


@vocabulary_app.command("list")
def vocabulary_list(
    project: Annotated[str, typer.Option("--project", help="The project whose names to list.")],
    as_json: Json = False,
) -> None:
    """The project's known names, their labels and aliases, in the order they are matched."""
    from docflow.ops.vocabulary import list_vocabulary

    entries = list_vocabulary(project)
    if as_json:
        typer.echo(json.dumps([{"name": e.name, "label": e.label, "aliases": list(e.aliases)} for e in entries]))
        return
    if not entries:
        typer.echo(f"no vocabulary for project {project!r}")
        raise typer.Exit(1)
    width = max(len(e.name) for e in entries)
    for entry in entries:
        aliases = f"  (also: {', '.join(entry.aliases)})" if entry.aliases else ""
        typer.echo(f"{entry.name:<{width}}  {entry.label:<7}{aliases}")
