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
    # The answer is a new page (signed in, or the form again with why not): waiting for it means the
    # caller's next request goes with the session cookie.
    click_through(browser, browser.find_element(By.ID, "sign-in"))


def click_through(browser, element, *, timeout_s: float = 30) -> None:
    """Click a button or link that loads a new page, and return once the old page is gone.

    ``click()`` returns before the answer arrives: reading the page right after it can find the old
    page's elements (a notice from the previous step, or one that goes stale while it is read), and
    a request made from elsewhere can run before the form's write. Waiting for the clicked element
    to leave the document is waiting for the answer."""
    element.click()
    WebDriverWait(browser, timeout_s).until(lambda _browser: _gone(element))


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
