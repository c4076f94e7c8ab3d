"""``docflow entities``: a project's entities as a person curates them — merge, split, merges,
duplicates.

A merge or a split is recorded with the OS user (``cli:<user>``) and re-drives the documents
concerned from the entity stage, so the workers must be running for it to reach the graph.
Like every command: ``--json``; a reference that names nothing (or several things) is one line
and exit 2.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from docflow.cli.app import app
from docflow.cli.lifecycle import Json, _fail, _user
from docflow.core.settings import get_settings

if TYPE_CHECKING:
    from docflow.ops.entities import MergeResult

T = TypeVar("T")

entities_app = typer.Typer(help="Merge and split a project's entities; list merges and possible duplicates.")
app.add_typer(entities_app, name="entities")

ProjectOption = Annotated[
    str | None, typer.Option("--project", help="The project (default: DOCFLOW_PROJECT_ID, 'default').")
]
Reference = Annotated[str, typer.Argument(help="An entity: its id (#12), its name, or LABEL:name.")]


def _project(project: str | None) -> str:
    return project or get_settings().project_id


def _run(work: Callable[[], T]) -> T:
    """Run an operation; its :class:`EntityError` becomes one line and exit 2."""
    from docflow.ops.entities import EntityError

    try:
        return work()
    except EntityError as exc:
        _fail(str(exc))


def _print_result(result: MergeResult, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        m = result.merge
        verb = "merged into" if result.action == "merged" else "split from"
        typer.echo(f"✔ #{m.id}: {m.from_label}:{m.from_name} {verb} {m.into_label}:{m.into_name} ({m.project_id})")
        typer.echo(
            f"  re-driven from the entity stage: {len(result.redriven)} document(s)"
            + (f"; {len(result.waiting)} not there yet (they will apply it)" if result.waiting else "")
        )
        for doc_id, why in result.refused.items():
            typer.echo(f"  not re-driven: document {doc_id}: {why}")
        if result.publish_error:
            typer.echo(f"  publishing failed ({result.publish_error}): reconcile re-drives them")
    if result.refused or result.publish_error:
        raise typer.Exit(1)


@entities_app.command("merge")
def merge(
    source: Reference,
    target: Reference,
    project: ProjectOption = None,
    reason: Annotated[str | None, typer.Option(help="Why: kept with the merge.")] = None,
    as_json: Json = False,
) -> None:
    """Merge entity SOURCE into TARGET: from now on, and in every document already processed, one entity."""
    from docflow.ops.entities import merge_entities

    result = _run(
        lambda: merge_entities(
            project_id=_project(project),
            source=source,
            target=target,
            merged_by=_user(),
            reason=reason,
            settings=get_settings(),
        )
    )
    _print_result(result, as_json)


@entities_app.command("split")
def split(source: Reference, project: ProjectOption = None, as_json: Json = False) -> None:
    """Undo the merge of entity SOURCE: it is its own entity again (the merge stays in the history)."""
    from docflow.ops.entities import split_entity

    result = _run(
        lambda: split_entity(project_id=_project(project), source=source, split_by=_user(), settings=get_settings())
    )
    _print_result(result, as_json)


@entities_app.command("merges")
def merges(
    project: ProjectOption = None,
    history: Annotated[bool, typer.Option(help="Also the merges that were split again.")] = False,
    as_json: Json = False,
) -> None:
    """The project's merges: what was merged into what, by whom and when."""
    from docflow.ops.entities import list_merges

    records = list_merges(project_id=_project(project), include_split=history)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in records], indent=2, ensure_ascii=False))
        return
    if not records:
        typer.echo(f"no merges in project {_project(project)!r}")
        return
    for r in records:
        split_note = f"  — split by {r.split_by} {r.split_at:%Y-%m-%d %H:%M}" if r.split_at else ""
        why = f"  ({r.reason})" if r.reason else ""
        typer.echo(
            f"#{r.id}  {r.from_label}:{r.from_name} → {r.into_label}:{r.into_name}  "
            f"by {r.merged_by} {r.merged_at:%Y-%m-%d %H:%M}{why}{split_note}"
        )


@entities_app.command("duplicates")
def duplicates(
    project: ProjectOption = None,
    limit: Annotated[int, typer.Option(help="At most this many pairs.")] = 30,
    min_score: Annotated[float, typer.Option(help="Only pairs scoring at least this (0..1).")] = 0.6,
    as_json: Json = False,
) -> None:
    """Possible duplicates to review: same label, alike names, shared neighbours; best first."""
    from docflow.ops.entities import possible_duplicates

    found = possible_duplicates(project_id=_project(project), limit=limit, min_score=min_score)
    if as_json:
        typer.echo(json.dumps([c.to_dict() for c in found], indent=2, ensure_ascii=False))
        return
    if not found:
        typer.echo(f"no possible duplicates in project {_project(project)!r}")
        return
    for c in found:
        typer.echo(
            f"{c.score:.2f}  {c.first.label}:{c.first.name} (#{c.first.id}, {c.first.mentions} mentions)  ~  "
            f"{c.second.name} (#{c.second.id}, {c.second.mentions})  [{', '.join(c.reasons)}]"
        )
    typer.echo("\nmerge with: docflow entities merge '#SECOND' '#FIRST' [--project P]")
