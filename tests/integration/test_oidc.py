"""OIDC sign-in against a real OpenID Connect provider on 127.0.0.1 (oidc-provider-mock: authorization
code flow, signed ID tokens, discovery), driven as a browser would follow the redirects."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urljoin

import httpx
import pytest

from docflow.core.accounts import Role
from tests.support.accounts import new_account
from tests.support.servers import Server, api_server

pytestmark = [pytest.mark.services]


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread(port=0, require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def site(stack, provider, tmp_path_factory) -> Iterator[Server]:
    env = {
        "DOCFLOW_OIDC_ISSUER": provider,
        "DOCFLOW_OIDC_CLIENT_ID": "docflow",
        "DOCFLOW_OIDC_CLIENT_SECRET": "client-" + uuid.uuid4().hex,
        "DOCFLOW_OIDC_USER_CLAIM": "sub",
    }
    with api_server(log=tmp_path_factory.mktemp("oidc") / "api.log", env=env) as server:
        yield server


def _through_the_provider(site: Server, subject: str) -> tuple[httpx.Client, httpx.Response]:
    """Start single sign-on, pick ``subject`` on the provider's page, come back: (browser, last answer)."""
    browser = httpx.Client(base_url=site.url, timeout=60, follow_redirects=False)
    start = browser.get("/ui/login/oidc", params={"next": "/ui/account"})
    assert start.status_code in (302, 303, 307), start.text[:300]
    authorize = start.headers["location"]
    form = httpx.get(authorize, timeout=30)
    assert form.status_code == 200, form.text[:300]
    chosen = httpx.post(authorize, data={"sub": subject}, timeout=30, follow_redirects=False)
    assert chosen.status_code in (302, 303), chosen.text[:300]
    callback = chosen.headers["location"]
    assert callback.startswith(urljoin(site.url, "/ui/login/oidc/callback"))
    return browser, browser.get(callback)


def test_a_user_signs_in_through_the_provider(site):
    from docflow.ops.audit import events

    # GIVEN a local user without a password, granted a project
    user = new_account("sso", grants={f"sso-{uuid.uuid4().hex[:6]}": Role.VIEWER})
    # WHEN they sign in at the provider as that user
    browser, back = _through_the_provider(site, user.name)
    # THEN they are signed in here, and sent where they were going
    assert back.status_code == 303 and back.headers["location"] == "/ui/account", back.text[:300]
    assert browser.get("/me").json()["name"] == user.name
    assert user.name in browser.get("/ui/account").text
    assert any(e.detail.get("method") == "oidc" for e in events(actor=f"user:{user.name}", action="sign-in"))


def test_an_identity_without_an_enabled_user_is_refused(site):
    from docflow.ops.access.users import set_disabled
    from docflow.ops.audit import Actor

    # WHEN someone the provider knows but docflow does not comes back THEN they are not signed in
    browser, back = _through_the_provider(site, f"stranger-{uuid.uuid4().hex[:6]}")
    assert back.status_code == 403 and "No enabled docflow user" in back.text
    assert browser.get("/me").status_code == 401
    # AND a disabled user is refused the same way
    user = new_account("sso")
    set_disabled(user.name, disabled=True, by=Actor("test"))
    browser, back = _through_the_provider(site, user.name)
    assert back.status_code == 403 and browser.get("/me").status_code == 401


def test_a_callback_without_the_flows_state_is_refused(site, provider):
    # WHEN a callback arrives that this browser never started (a forged or replayed code)
    _browser, back = _through_the_provider(site, new_account("sso").name)
    stranger = httpx.Client(base_url=site.url, timeout=60, follow_redirects=False)
    replayed = stranger.get(back.request.url.raw_path.decode())
    # THEN it signs nobody in
    assert replayed.status_code == 401 and "did not complete" in replayed.text
    assert stranger.get("/me").status_code == 401
