"""Accounts and the audit log: ``docflow users add | list | disable | enable | grant | revoke |
set-password`` and ``docflow audit``.

The CLI is trusted (it runs where the secrets are) and needs no sign-in; every change it makes is
audited as the operating-system user. A password is typed at a hidden prompt, or read from
standard input with ``--password-stdin`` — never taken as an argument (it would land in the
shell's history and the process list).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, NoReturn

import typer

from docflow.cli.app import app

users_app = typer.Typer(help="Users, their roles per project, and their passwords.", no_args_is_help=True)
app.add_typer(users_app, name="users")

Name = Annotated[str, typer.Argument(help="The user's name.")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")]


def _fail(message: str) -> NoReturn:
    typer.secho(f"✘ {message}", fg="red", err=True)
    raise typer.Exit(2)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        _fail("no terminal to ask the password at: pass --password-stdin and send it on standard input")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def _change(run: Callable[[], object]) -> None:
    from docflow.ops.access.passwords import PasswordError
    from docflow.ops.access.users import AccountError

    try:
        run()
    except (AccountError, PasswordError) as exc:
        _fail(str(exc))


@users_app.command("add")
def add(
    name: Name,
    admin: Annotated[bool, typer.Option(help="An admin: manages users and reads and acts in every project.")] = False,
    no_password: Annotated[bool, typer.Option(help="Signs in through OIDC only.")] = False,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user (then `docflow users grant` gives them projects)."""
    from docflow.ops.access.users import add_user
    from docflow.ops.audit import os_actor

    password = None if no_password else _password(password_stdin)
    _change(lambda: add_user(name, password=password, admin=admin, by=os_actor()))
    typer.echo(f"✔ added {name}" + (" (admin)" if admin else ""))


@users_app.command("list")
def list_users(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """Every user: admin or not, enabled or not, and their role per project."""
    from docflow.ops.access.users import users

    found = users()
    if as_json:
        typer.echo(json.dumps([{**u.__dict__, "created_at": u.created_at.isoformat()} for u in found], indent=2))
        return
    for u in found:
        roles = "admin" if u.admin else ", ".join(f"{role} in {p}" for p, role in u.grants.items()) or "no project"
        typer.echo(f"{u.name:<24} {'disabled' if u.disabled else 'enabled':<9} {roles}")


@users_app.command("disable")
def disable(name: Name) -> None:
    """Disable a user: their sessions end and their tokens stop working at once."""
    from docflow.ops.access.users import set_disabled
    from docflow.ops.audit import os_actor

    _change(lambda: set_disabled(name, disabled=True, by=os_actor()))
    typer.echo(f"✔ disabled {name}: sessions ended, tokens revoked")


@users_app.command("enable")
def enable(name: Name) -> None:
    """Enable a disabled user again (their old tokens stay revoked)."""
    from docflow.ops.access.users import set_disabled
    from docflow.ops.audit import os_actor

    _change(lambda: set_disabled(name, disabled=False, by=os_actor()))
    typer.echo(f"✔ enabled {name}")


@users_app.command("grant")
def grant(
    name: Name,
    project: Annotated[str, typer.Argument(help="The project id.")],
    role: Annotated[str, typer.Option(help="viewer (read, search, export) or operator (also change).")] = "viewer",
) -> None:
    """Give a user a role in a project (replacing the one they had there)."""
    from docflow.core.accounts import Role
    from docflow.ops.access.users import grant as give
    from docflow.ops.audit import os_actor

    try:
        chosen = Role(role)
    except ValueError:
        _fail("the role is viewer or operator")
    _change(lambda: give(name, project, chosen, by=os_actor()))
    typer.echo(f"✔ {name} is {chosen.value} in {project}")


@users_app.command("revoke")
def revoke(name: Name, project: Annotated[str, typer.Argument(help="The project id.")]) -> None:
    """Take a user's role in a project away."""
    from docflow.ops.access.users import revoke as take
    from docflow.ops.audit import os_actor

    _change(lambda: typer.echo(f"✔ {name} has no role in {project}" if take(name, project, by=os_actor()) else
                               f"{name} had no role in {project}"))  # fmt: skip


@users_app.command("set-password")
def set_password(name: Name, password_stdin: PasswordStdin = False) -> None:
    """Set a user's password (an admin's reset); their sessions end."""
    from docflow.ops.access.users import set_password as change
    from docflow.ops.audit import os_actor

    password = _password(password_stdin)
    _change(lambda: change(name, password, by=os_actor()))
    typer.echo(f"✔ new password for {name}; their sessions ended")


@app.command()
def audit(
    actor: Annotated[str | None, typer.Option(help="Only this actor, e.g. user:maria or os:root.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action: sign-in, view, search, export, delete…")] = None,
    project: Annotated[str | None, typer.Option("--project", help="Only this project.")] = None,
    since: Annotated[datetime | None, typer.Option(help="From this moment (YYYY-MM-DD[THH:MM]).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many events (newest first).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON Lines.")] = False,
) -> None:
    """The audit log: who did what, when and from where (newest first)."""
    from docflow.ops.audit import events

    found = events(actor=actor, action=action, project_id=project, since=since, limit=limit)
    for event in found:
        if as_json:
            typer.echo(json.dumps({**event.__dict__, "at": event.at.isoformat()}, ensure_ascii=False))
        else:
            typer.echo(event.line())
    if not found and not as_json:
        typer.echo("nothing recorded")
