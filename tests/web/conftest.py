"""A real browser against the pages: the API's uvicorn process on the suite's stack, and headless
Chromium (Debian's ``chromium`` + ``chromium-driver``) driven through Selenium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.support.servers import Server, api_server
from tests.support.web import TOKEN

CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
    "--window-size=1400,1000",
)  # fmt: skip


@pytest.fixture(scope="session")
def site(workers, tmp_path_factory) -> Iterator[Server]:
    with api_server(log=tmp_path_factory.mktemp("web") / "api.log", env={"DOCFLOW_API_TOKEN": TOKEN}) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        pytest.fail("Chromium and chromedriver are needed (bootstrap installs Debian's chromium and chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()
