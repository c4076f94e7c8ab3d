"""The admin's pages: users (add, disable and enable, reset a password, grant and revoke a project
role) and the audit log. Every change goes through the same operations as ``docflow users``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from docflow.api.access import Access, Signed
from docflow.api.inputs import Identifier
from docflow.api.web.render import render
from docflow.core.accounts import GRANTABLE, Role
from docflow.ops.access.passwords import PasswordError
from docflow.ops.access.users import AccountError, add_user, grant, revoke, set_disabled, set_password, users
from docflow.ops.audit import events

router = APIRouter(prefix="/ui/admin", include_in_schema=False)
Admin = Annotated[Access, Depends(Signed(Role.ADMIN, page=True))]
UserName = Annotated[Identifier, Path(min_length=1, max_length=64)]
Project = Annotated[Identifier, Form(min_length=1, max_length=128)]
PAGE_SIZE = 100


def _back(notice: str) -> RedirectResponse:
    return RedirectResponse(f"/ui/admin/users?{urlencode({'notice': notice})}", status_code=303)


def _done(change: str, action: Callable[[], object]) -> Response:
    try:
        action()
    except (AccountError, PasswordError) as exc:
        return _back(f"not done: {exc}")
    return _back(change)


@router.get("/users")
def user_list(request: Request, _: Admin) -> HTMLResponse:
    return render(request, "users.html", {"users": users(), "roles": [r.value for r in GRANTABLE]})


@router.post("/users")
def new_user(
    access: Admin,
    name: Annotated[Identifier, Form(min_length=1, max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    admin: Annotated[Identifier, Form(max_length=8)] = "",
) -> Response:
    who = access.principal.actor
    return _done(f"added {name}", lambda: add_user(name, password=password, admin=admin == "yes", by=who))


@router.post("/users/{name}/disable")
def disable(access: Admin, name: UserName) -> Response:
    if name == access.principal.name:
        return _back("not done: you cannot disable yourself")
    return _done(f"disabled {name}", lambda: set_disabled(name, disabled=True, by=access.principal.actor))


@router.post("/users/{name}/enable")
def enable(access: Admin, name: UserName) -> Response:
    return _done(f"enabled {name}", lambda: set_disabled(name, disabled=False, by=access.principal.actor))


@router.post("/users/{name}/password")
def reset_password(access: Admin, name: UserName, password: Annotated[str, Form(max_length=1024)] = "") -> Response:
    """A new password set by the admin: the user's sessions end."""
    return _done(f"new password for {name}", lambda: set_password(name, password, by=access.principal.actor))


@router.post("/users/{name}/grants")
def add_grant(
    access: Admin, name: UserName, project: Project, role: Annotated[Identifier, Form(max_length=16)] = "viewer"
) -> Response:
    if role not in {r.value for r in GRANTABLE}:
        return _back(f"not done: the role is {' or '.join(r.value for r in GRANTABLE)}")
    return _done(f"{name} is {role} in {project}", lambda: grant(name, project, Role(role), by=access.principal.actor))


@router.post("/users/{name}/grants/revoke")
def remove_grant(access: Admin, name: UserName, project: Project) -> Response:
    return _done(f"{name} has no role in {project} now", lambda: revoke(name, project, by=access.principal.actor))


@router.get("/audit")
def audit(
    request: Request,
    _: Admin,
    actor: Annotated[Identifier, Query(max_length=255)] = "",
    action: Annotated[Identifier, Query(max_length=32)] = "",
    project: Annotated[Identifier, Query(max_length=128)] = "",
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> HTMLResponse:
    """The audit log, newest first, a page at a time."""
    found = events(
        actor=actor or None, action=action or None, project_id=project or None, before_id=before, limit=PAGE_SIZE
    )
    given = {"actor": actor, "action": action, "project": project}
    more = (
        f"/ui/admin/audit?{urlencode({**{k: v for k, v in given.items() if v}, 'before': found[-1].id})}"
        if len(found) == PAGE_SIZE
        else None
    )
    return render(request, "audit.html", {"events": found, "more": more, **given})


__all__ = ["router"]
