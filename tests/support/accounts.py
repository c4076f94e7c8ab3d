"""Users for the tests: made through the operations (as `docflow users` does), signed in through
the sign-in form like a browser, or given a personal API token."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass

import httpx

from docflow.core.accounts import Role

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Account:
    name: str
    password: str
    user_id: int


def new_account(prefix: str, *, admin: bool = False, grants: dict[str, Role] | None = None) -> Account:
    from docflow.ops.access.users import add_user, grant
    from docflow.ops.audit import Actor

    by = Actor("test")
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    password = secrets.token_urlsafe(16)
    user_id = add_user(name, password=password, admin=admin, by=by)
    for project, role in (grants or {}).items():
        grant(name, project, role, by=by)
    return Account(name, password, user_id)


def personal_token(account: Account, *, days: int = 1) -> str:
    from docflow.ops.access.credentials import create_token

    token, _info = create_token(user_id=account.user_id, name="test", days=days)
    return token


def csrf_token(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(url: str, account: Account, *, password: str | None = None) -> httpx.Client:
    """A client holding a session of ``account``, signed in through the form (raises if refused)."""
    client = httpx.Client(base_url=url, timeout=60, follow_redirects=False)
    form = client.get("/ui/login")
    answer = client.post(
        "/ui/login",
        data={"name": account.name, "password": password or account.password, "csrf_token": csrf_token(form.text)},
    )
    assert answer.status_code == 303, (answer.status_code, answer.text[:300])
    return client


def page_token(client: httpx.Client, path: str = "/ui/account") -> str:
    """The CSRF token of the signed-in client's session, read from one of its pages."""
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return csrf_token(page.text)
