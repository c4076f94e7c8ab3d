"""Accounts over real HTTP and the real CLI: a revoked token and a disabled user are refused at once,
sign-ins are throttled, /metrics answers only an admin or the scrape token, the CLI manages users
and is audited as the operating-system user, and no password or token ends up in a log, an error
or the audit log."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from docflow.core.accounts import Role
from tests.support.accounts import Account, csrf_token, new_account, page_token, personal_token, sign_in
from tests.support.servers import api_server

pytestmark = [pytest.mark.services]

SCRAPE_TOKEN = "scrape-" + uuid.uuid4().hex


@dataclass
class Site:
    url: str
    log: Path
    project: str

    def bearer(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


@pytest.fixture(scope="module")
def site(stack, tmp_path_factory) -> Iterator[Site]:
    with api_server(
        log=tmp_path_factory.mktemp("accounts") / "api.log",
        env={"DOCFLOW_METRICS_TOKEN": SCRAPE_TOKEN},
    ) as s:
        yield Site(s.url, s.log, f"accounts-{uuid.uuid4().hex[:8]}")


def _cli(*arguments: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docflow.cli", *arguments], input=stdin, capture_output=True, text=True, env=os.environ
    )


def test_a_revoked_token_is_refused_at_once(site):
    from docflow.ops.access.credentials import user_tokens

    # GIVEN a viewer's personal token that works
    viewer = new_account("viewer", grants={site.project: Role.VIEWER})
    token = personal_token(viewer)
    assert site.bearer(token).get("/me").json()["name"] == viewer.name
    # WHEN it is revoked on the account page
    client = sign_in(site.url, viewer)
    (listed,) = user_tokens(user_id=viewer.user_id)
    token_id = listed.id
    revoked = client.post(f"/ui/account/tokens/{token_id}/revoke", data={"csrf_token": page_token(client)})
    assert revoked.status_code == 303
    # THEN its very next request is refused
    refused = site.bearer(token).get("/me")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"


def test_an_expired_token_is_refused(site):
    from sqlalchemy import text

    from docflow.core.db import session_scope

    # GIVEN a token whose expiry has passed
    viewer = new_account("viewer", grants={site.project: Role.VIEWER})
    token = personal_token(viewer)
    with session_scope() as session:
        session.execute(text("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE user_id = :u"),
                        {"u": viewer.user_id})  # fmt: skip
    # THEN it opens nothing
    assert site.bearer(token).get("/me").status_code == 401


def test_a_disabled_user_is_refused_at_once_everywhere(site):
    from docflow.ops.access.users import set_disabled
    from docflow.ops.audit import Actor

    # GIVEN an operator signed in on the pages and holding a token
    operator = new_account("operator", grants={site.project: Role.OPERATOR})
    browser, token = sign_in(site.url, operator), personal_token(operator)
    assert browser.get("/ui/account").status_code == 200 and site.bearer(token).get("/me").status_code == 200
    # WHEN an admin disables them
    set_disabled(operator.name, disabled=True, by=Actor("test"))
    # THEN the session and the token are refused on their next request, and signing in again fails
    assert browser.get("/ui/account").headers["location"].startswith("/ui/login")
    assert site.bearer(token).get("/me").status_code == 401
    again = _sign_in_form(site, operator.name, operator.password)
    assert again.status_code == 401 and "do not match an enabled user" in again.text
    # AND enabling them again does not bring the old token back
    set_disabled(operator.name, disabled=False, by=Actor("test"))
    assert site.bearer(token).get("/me").status_code == 401


def _sign_in_form(site: Site, name: str, password: str) -> httpx.Response:
    """The sign-in form sent as a browser sends it (its CSRF token and cookie included)."""
    client = httpx.Client(base_url=site.url, timeout=60)
    form = client.get("/ui/login")
    return client.post("/ui/login", data={"name": name, "password": password, "csrf_token": csrf_token(form.text)})


def test_sign_ins_are_throttled_per_user_and_per_address(site):
    from docflow.core.settings import get_settings
    from docflow.ops.access.signin import sign_in as password_sign_in

    # (the suite lifts the per-address limit for its own clients on 127.0.0.1: the default here)
    settings = get_settings().model_copy(update={"signin_failures_per_address": 20})
    account = new_account("throttled")
    # GIVEN as many failed sign-ins for one user as are allowed (from an address of its own)
    for _ in range(settings.signin_failures_per_user):
        assert password_sign_in(account.name, "wrong-password", address="192.0.2.1", settings=settings).user_id is None
    # WHEN the right password comes next THEN it is refused too, until the window has passed
    late = password_sign_in(account.name, account.password, address="192.0.2.2", settings=settings)
    assert late.user_id is None and late.throttled
    # AND failures from one address, whatever names they tried, stop that address
    address = f"192.0.2.{uuid.uuid4().int % 200 + 10}"
    other = new_account("other")
    for number in range(settings.signin_failures_per_address):
        password_sign_in(f"nobody-{number}", "x" * 12, address=address, settings=settings)
    blocked = password_sign_in(other.name, other.password, address=address, settings=settings)
    assert blocked.user_id is None and blocked.throttled
    # AND the same user signs in from elsewhere
    assert password_sign_in(other.name, other.password, address="198.51.100.7", settings=settings).user_id is not None


def test_metrics_answer_only_an_admin_or_the_scrape_token(site):
    viewer = new_account("viewer", grants={site.project: Role.VIEWER})
    admin = new_account("admin", admin=True)
    assert httpx.get(f"{site.url}/metrics").status_code == 401
    assert site.bearer(personal_token(viewer)).get("/metrics").status_code == 403
    assert site.bearer(personal_token(admin)).get("/metrics").status_code == 200
    assert site.bearer(SCRAPE_TOKEN).get("/metrics").status_code == 200
    # the scrape token opens nothing else
    assert site.bearer(SCRAPE_TOKEN).get("/me").status_code == 401


def test_the_cli_manages_users_and_is_audited_as_the_os_user(site):
    from docflow.ops.audit import events

    name = f"cli-{uuid.uuid4().hex[:8]}"
    password = "pw-" + uuid.uuid4().hex
    # WHEN users are added, granted, listed, given a new password and disabled with the CLI
    assert _cli("users", "add", name, "--password-stdin", stdin=password + "\n").returncode == 0
    assert _cli("users", "grant", name, site.project, "--role", "operator").returncode == 0
    listed = json.loads(_cli("users", "list", "--json").stdout)
    assert {"name": name, "grants": {site.project: "operator"}}.items() <= next(
        u for u in listed if u["name"] == name
    ).items()
    assert sign_in(site.url, Account(name, password, 0)).get("/me").json()["grants"] == {site.project: "operator"}
    new_password = "pw-" + uuid.uuid4().hex
    assert _cli("users", "set-password", name, "--password-stdin", stdin=new_password + "\n").returncode == 0
    sign_in(site.url, Account(name, new_password, 0))
    assert _cli("users", "revoke", name, site.project).returncode == 0
    assert _cli("users", "disable", name).returncode == 0
    # THEN each change is in the audit log as the operating-system user, and `docflow audit` shows it
    actor = f"os:{getpass.getuser()}"
    done = {(e.action, e.outcome) for e in events(actor=actor, limit=500) if e.target == name}
    assert {
        ("user-add", "ok"),
        ("grant", "ok"),
        ("password-set", "ok"),
        ("revoke", "ok"),
        ("user-disable", "ok"),
    } <= done
    shown = _cli("audit", "--actor", actor, "--limit", "20").stdout
    assert f"{actor} user-disable ok {name}" in shown
    # AND a password is never taken as an argument (no such option)
    assert _cli("users", "add", "x" + name, "--password", "secret").returncode != 0


def test_no_password_or_token_is_in_a_log_an_error_or_the_audit_log(site):
    from docflow.core.db import fetch_all
    from docflow.core.secrets import api_token
    from docflow.core.settings import get_settings

    # GIVEN sign-ins (right and wrong), tokens used and refused, a password changed
    account = new_account("secretive", grants={site.project: Role.OPERATOR})
    client = sign_in(site.url, account)
    token = personal_token(account)
    site.bearer(token).get(f"/search?q=anything&project_id={site.project}")
    wrong = "wrong-" + uuid.uuid4().hex
    assert _sign_in_form(site, account.name, wrong).status_code == 401
    mistaken = _sign_in_form(site, wrong, account.password)  # a password typed as the name
    assert mistaken.status_code == 401
    new_password = "new-" + uuid.uuid4().hex
    changed = client.post("/ui/account/password", data={"current": account.password, "new": new_password,
                                                       "repeat": new_password, "csrf_token": page_token(client)})  # fmt: skip
    assert changed.status_code == 303
    refused = site.bearer(token + "x").get("/me")
    secrets = [account.password, new_password, token, wrong, api_token(get_settings()).get_secret_value()]
    # THEN none of them is in the server's log, an answer's error, or any audit event
    log = site.log.read_text()
    audit = "\n".join(str(row) for row in fetch_all("SELECT * FROM audit_events", {}))
    for secret in secrets:
        assert secret not in log
        assert secret not in audit
        assert secret not in refused.text and secret not in mistaken.text
    # AND passwords and tokens are stored only as hashes
    stored = "\n".join(
        str(r) for r in fetch_all("SELECT password_hash FROM users UNION ALL SELECT token_hash FROM api_tokens", {})
    )
    assert account.password not in stored and new_password not in stored and token not in stored
