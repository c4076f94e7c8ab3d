"""Who may do what, as pure logic: a principal's roles per project, passwords, the signed session
cookie and the CSRF token bound to it."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from docflow.core.accounts import Role
from docflow.ops.access.passwords import PasswordError, hash_password, verify_password
from docflow.ops.access.principal import Principal

pytestmark = pytest.mark.unit


def test_a_principal_may_act_only_where_its_role_allows():
    # GIVEN a viewer of A who operates B
    who = Principal(1, "maria", False, {"a": Role.VIEWER, "b": Role.OPERATOR})
    # THEN its projects per role are exactly those, and nothing else is allowed anywhere
    assert who.projects(Role.VIEWER) == {"a", "b"} and who.projects(Role.OPERATOR) == {"b"}
    assert who.projects(Role.ADMIN) == frozenset()
    assert who.may(Role.VIEWER, "a") and not who.may(Role.OPERATOR, "a") and who.may(Role.OPERATOR, "b")
    assert not who.may(Role.VIEWER, "c") and who.role_in("c") is None
    # AND an admin holds every project (None: no filter) and every role
    admin = Principal(2, "root", True)
    assert admin.projects(Role.OPERATOR) is None and admin.may(Role.ADMIN, "anything")
    assert admin.actor.name == "user:root" and admin.actor.user_id == 2


def test_passwords_are_argon2_hashes_that_only_the_password_matches():
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse battery!")
    # an account without a password (OIDC only) matches nothing; a broken hash is no crash
    assert not verify_password(None, "")
    assert not verify_password("not a hash", "correct horse battery")
    with pytest.raises(PasswordError, match="at least"):
        hash_password("short")


def test_session_cookies_are_signed_and_csrf_tokens_bound_to_their_session(tmp_path):
    from docflow.api.auth import Credentials
    from docflow.core.settings import Settings

    settings = Settings(data_dir=tmp_path, api_token=SecretStr("legacy-token"), session_secret=SecretStr("k" * 40))
    check = Credentials(settings)
    # GIVEN a cookie for a session id
    cookie = check.session_cookie("session-1")
    # THEN it carries that id, and any change to it carries nothing
    assert check.session_id(cookie) == "session-1"
    assert check.session_id(cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")) is None
    assert check.session_id("session-1") is None and check.session_id(None) is None
    # AND a cookie signed with another key is refused
    other = Credentials(settings.model_copy(update={"session_secret": SecretStr("x" * 40)}))
    assert check.session_id(other.session_cookie("session-1")) is None
    # AND the CSRF token of one session is not another's, and is checked in constant time
    token = check.csrf_token("session-1")
    assert check.csrf_valid("session-1", token) and not check.csrf_valid("session-2", token)
    assert not check.csrf_valid("session-1", "") and not check.csrf_valid("session-1", None)
    # AND the scrape token is only accepted when one is configured
    assert not check.is_scrape_token("anything")


def test_what_a_caller_typed_is_kept_in_the_audit_log_as_printable_escapes():
    from docflow.ops.audit import printable

    # GIVEN text from a URL, a query or a JSON body: NUL, a terminal escape, a lone surrogate
    typed = "GET /ui/documents/4/pages/\x00.png \x1b[2J \ud800 Señora"
    # THEN each is an escape PostgreSQL can store and a terminal only shows; the rest is as typed
    assert printable(typed) == "GET /ui/documents/4/pages/\\x00.png \\x1b[2J \\ud800 Señora"
    assert printable({"q": ["a\x00b"], "n": 3}) == {"q": ["a\\x00b"], "n": 3}
    assert printable(None) is None
