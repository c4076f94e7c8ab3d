"""What the browser tests share: the API token the pages' server is started with (one per session),
and signing a browser in through the sign-in form."""

from __future__ import annotations

import uuid

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from tests.support.accounts import Account

TOKEN = "web-" + uuid.uuid4().hex


def sign_in(browser, site, account: Account, *, password: str | None = None, next_path: str = "/ui/overview") -> None:
    """Type the account's name and password into the sign-in form, as a person does, and wait for the answer."""
    browser.delete_all_cookies()
    browser.get(f"{site.url}/ui/login?next={next_path}")
    browser.find_element(By.ID, "name").send_keys(account.name)
    browser.find_element(By.ID, "password").send_keys(password if password is not None else account.password)
    button = browser.find_element(By.ID, "sign-in")
    button.click()
    # The answer is a new page (signed in, or the form again with why not): wait until the form's
    # page is gone, so the caller's next request goes with the session cookie.
    WebDriverWait(browser, 30).until(lambda _browser: _gone(button))


def _gone(element) -> bool:
    """The element's page was replaced. Chrome says so as a stale element, or — caught mid-navigation —
    as "Node with given id does not belong to the document": both mean the answer has arrived."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False
