"""Signing in, out and being refused, in a real browser: sessions end on the server, expired sessions
and forged forms are refused, failed sign-ins are throttled, a user sees only their projects,
tokens are shown once, and an admin manages users from the pages."""

from __future__ import annotations

import uuid

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from docflow.core.accounts import Role
from docflow.ops.progress import wait_for_documents
from docflow.ops.submit import ingest_file
from tests.support.accounts import Account, new_account
from tests.support.accounts import sign_in as sign_in_http
from tests.support.web import click_through, sign_in

pytestmark = [pytest.mark.services, pytest.mark.workers, pytest.mark.slow, pytest.mark.browser]

TIMEOUT_S = 240


@pytest.fixture(scope="module")
def two_projects(workers, sample_files) -> dict:
    """A processed text document in each of two projects."""
    good, _bad = sample_files
    names = {side: f"web-{side}-{uuid.uuid4().hex[:8]}" for side in ("mine", "theirs")}
    ids = {side: ingest_file(path=good["field_notes.txt"], project_id=name).document_id for side, name in names.items()}
    assert set(wait_for_documents(list(ids.values()), timeout_s=TIMEOUT_S).values()) == {"graph_complete"}
    return {"names": names, "ids": ids}


def _end_sessions_now(user_id: int) -> None:
    from sqlalchemy import text

    from docflow.core.db import session_scope

    with session_scope() as session:
        session.execute(
            text("UPDATE user_sessions SET expires_at = now() - interval '1 second' WHERE user_id = :u"), {"u": user_id}
        )


def test_sign_in_and_out_and_the_old_cookie_is_dead(site, browser, two_projects):
    viewer = new_account("viewer", grants={two_projects["names"]["mine"]: Role.VIEWER})
    # WHEN a user signs in THEN the pages show who they are
    sign_in(browser, site, viewer)
    assert "/ui/overview" in browser.current_url
    assert browser.find_element(By.ID, "account-link").text == viewer.name
    cookie = browser.get_cookie("docflow_session")
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    # WHEN they sign out THEN the sign-in page answers, and the old cookie, replayed, opens nothing
    click_through(browser, browser.find_element(By.ID, "sign-out"))
    WebDriverWait(browser, 30).until(lambda b: "/ui/login" in b.current_url)
    browser.add_cookie({"name": cookie["name"], "value": cookie["value"], "path": "/"})
    browser.get(f"{site.url}/ui/search")
    assert "/ui/login" in browser.current_url


def test_an_expired_session_goes_back_to_the_login_page(site, browser, two_projects):
    viewer = new_account("viewer", grants={two_projects["names"]["mine"]: Role.VIEWER})
    sign_in(browser, site, viewer)
    assert "/ui/overview" in browser.current_url
    # GIVEN the session's time has run out (on the server, where sessions are kept)
    _end_sessions_now(viewer.user_id)
    # WHEN a page is opened THEN it is the login page, and it brings the user back after signing in
    browser.get(f"{site.url}/ui/documents/{two_projects['ids']['mine']}")
    assert "/ui/login" in browser.current_url
    browser.find_element(By.ID, "name").send_keys(viewer.name)
    browser.find_element(By.ID, "password").send_keys(viewer.password)
    click_through(browser, browser.find_element(By.ID, "sign-in"))
    back = f"/ui/documents/{two_projects['ids']['mine']}"
    WebDriverWait(browser, 30).until(lambda b: b.current_url.endswith(back))


def test_a_user_sees_only_their_projects(site, browser, two_projects):
    viewer = new_account("viewer", grants={two_projects["names"]["mine"]: Role.VIEWER})
    sign_in(browser, site, viewer, next_path="/ui/search")
    # WHEN they search for words both projects' documents hold THEN only their project's come back
    browser.get(f"{site.url}/ui/search?q=Kenji+Tanaka")
    shown = {a.get_attribute("href").split("/ui/documents/")[1].split("?")[0]
             for a in browser.find_elements(By.CSS_SELECTOR, ".hit-title")}  # fmt: skip
    assert str(two_projects["ids"]["mine"]) in shown and str(two_projects["ids"]["theirs"]) not in shown
    # AND the other project's document does not exist for them; their own has no operator's actions
    browser.get(f"{site.url}/ui/documents/{two_projects['ids']['theirs']}")
    assert "There is no document" in browser.page_source
    browser.get(f"{site.url}/ui/documents/{two_projects['ids']['mine']}")
    assert browser.find_element(By.ID, "document-name").text == "field_notes.txt"
    assert not browser.find_elements(By.ID, "delete-button")


def test_a_form_without_its_csrf_token_is_refused(site, browser, two_projects):
    operator = new_account("operator", grants={two_projects["names"]["mine"]: Role.OPERATOR})
    document_id = two_projects["ids"]["mine"]
    sign_in(browser, site, operator, next_path=f"/ui/documents/{document_id}/confirm?action=delete")
    # WHEN the delete form is sent with a forged token (as another site's page would have to)
    browser.find_element(By.ID, "confirm-text").send_keys("delete")
    browser.execute_script("document.querySelector('form[action$=delete] input[name=csrf_token]').value = 'forged'")
    click_through(browser, browser.find_element(By.ID, "confirm-delete"))
    # THEN it is refused and the document is still there
    assert "This form has expired" in browser.find_element(By.ID, "refusal-reasons").text
    browser.get(f"{site.url}/ui/documents/{document_id}")
    assert browser.find_element(By.ID, "document-name").text == "field_notes.txt"
    # AND the same without any token
    browser.get(f"{site.url}/ui/documents/{document_id}/confirm?action=delete")
    browser.execute_script("document.querySelector('form[action$=delete] input[name=csrf_token]').remove()")
    browser.find_element(By.ID, "confirm-text").send_keys("delete")
    click_through(browser, browser.find_element(By.ID, "confirm-delete"))
    assert "This form has expired" in browser.find_element(By.ID, "refusal-reasons").text


def test_failed_sign_ins_are_throttled(site, browser):
    from docflow.core.settings import get_settings

    account = new_account("throttled")
    # GIVEN as many wrong passwords as a user is allowed
    for _ in range(get_settings().signin_failures_per_user):
        sign_in(browser, site, account, password="wrong password!")
        assert "do not match" in browser.find_element(By.ID, "login-error").text
    # WHEN the right password comes next THEN it is refused for now, and the page says why
    sign_in(browser, site, account)
    assert "Too many failed sign-ins" in browser.find_element(By.ID, "login-error").text
    assert "/ui/login" in browser.current_url


def test_a_personal_token_is_shown_once_and_revoked_from_the_account_page(site, browser, two_projects):
    viewer = new_account("viewer", grants={two_projects["names"]["mine"]: Role.VIEWER})
    sign_in(browser, site, viewer, next_path="/ui/account")
    # WHEN a token is created THEN it is shown once, and it works
    click_through(browser, browser.find_element(By.ID, "create-token"))
    token = browser.find_element(By.ID, "new-token").text
    api = httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert api.get("/me").json()["grants"] == {two_projects["names"]["mine"]: "viewer"}
    browser.get(f"{site.url}/ui/account")
    assert not browser.find_elements(By.ID, "new-token") and token not in browser.page_source
    # WHEN it is revoked THEN it opens nothing any more
    click_through(browser, browser.find_element(By.CSS_SELECTOR, ".revoke-token"))
    assert "Token revoked" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    assert api.get("/me").status_code == 401


def test_an_admin_adds_grants_and_disables_a_user_whose_session_ends_at_once(site, browser, two_projects):
    admin = new_account("admin", admin=True)
    name, password = f"new-{uuid.uuid4().hex[:8]}", "a long enough password"
    sign_in(browser, site, admin, next_path="/ui/admin/users")
    # WHEN the admin adds a user and grants them the project
    browser.find_element(By.ID, "new-name").send_keys(name)
    browser.find_element(By.ID, "new-password").send_keys(password)
    click_through(browser, browser.find_element(By.ID, "add-user"))
    assert f"added {name}" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    row = browser.find_element(By.ID, f"user-{name}")
    row.find_element(By.NAME, "project").send_keys(two_projects["names"]["mine"])
    click_through(browser, row.find_element(By.XPATH, ".//button[text()='Grant']"))
    # THEN the user signs in (a client of their own) and reads the project's document
    user = sign_in_http(site.url, Account(name, password, 0))
    assert user.get(f"/ui/documents/{two_projects['ids']['mine']}").status_code == 200
    # WHEN the admin disables them THEN their open session is refused on its next request
    browser.get(f"{site.url}/ui/admin/users")
    click_through(browser, browser.find_element(By.ID, f"user-{name}").find_element(By.CSS_SELECTOR, ".disable-user"))
    assert f"disabled {name}" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    assert user.get(f"/ui/documents/{two_projects['ids']['mine']}").headers["location"].startswith("/ui/login")
    # AND the audit page lists what was done, newest first
    browser.get(f"{site.url}/ui/admin/audit?actor=user:{admin.name}")
    actions = [
        row.find_elements(By.TAG_NAME, "td")[2].text
        for row in browser.find_elements(By.CSS_SELECTOR, "#audit-list tbody tr")
    ]
    assert actions[:3] == ["user-disable", "grant", "user-add"]
