"""Screenshots of docflow's web pages, from a running stack (``docflow up`` / the demo).

    .venv/bin/python scripts/screenshots.py [--out var/screenshots] [--query "Kenji Tanaka"]

Signs in as the first admin (its password from ``var/secrets/admin-password``), searches for the query, opens the first hit's document, its first
entity, and the overview, and saves one PNG per page (headless Chromium, Debian's package).
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from docflow.core.secrets import generated_secret
from docflow.core.settings import get_settings

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--window-size=1400,1100",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("var/screenshots"))
    parser.add_argument("--query", default="Kenji Tanaka")
    args = parser.parse_args()
    settings = get_settings()
    password = generated_secret(settings, "admin-password", create=False)
    if password is None:
        raise SystemExit("no first admin's password: run `docflow up` first")
    args.out.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    browser = webdriver.Chrome(
        service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options
    )
    try:
        browser.get(f"{settings.api_url}/ui/login")
        browser.save_screenshot(str(args.out / "1-login.png"))
        browser.find_element(By.ID, "name").send_keys(settings.admin_user)
        browser.find_element(By.ID, "password").send_keys(password.get_secret_value())
        browser.find_element(By.ID, "sign-in").click()
        browser.get(f"{settings.api_url}/ui/search?q={args.query}")
        browser.save_screenshot(str(args.out / "2-search.png"))
        browser.find_element(By.CSS_SELECTOR, ".hit-title").click()
        time.sleep(3)  # the page picture renders on first view
        browser.save_screenshot(str(args.out / "3-document.png"))
        browser.find_element(By.CSS_SELECTOR, "#entity-list a").click()
        time.sleep(2)
        browser.save_screenshot(str(args.out / "4-entity.png"))
        browser.get(f"{settings.api_url}/ui/overview")
        time.sleep(2)
        browser.save_screenshot(str(args.out / "5-overview.png"))
    finally:
        browser.quit()
    for path in sorted(args.out.glob("*.png")):
        print(path)


if __name__ == "__main__":
    main()
