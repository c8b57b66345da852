"""Playwright driving Debian's Chromium against Django's live server.

Chromium must be at /usr/bin/chromium (apt-get install chromium). In CI (CI=true) a missing
browser fails the run; elsewhere the browser tests are skipped with that reason printed.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("VUORO_CHROMIUM", "/usr/bin/chromium"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Playwright's sync API keeps an event loop on the test thread; the test's own ORM calls are
# synchronous and safe there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_browser():
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM}: install it with 'apt-get install chromium'"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)  # outside CI only: with CI=true the line above fails instead
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium_browser, live_server):
    """Open a fresh browser context (own cookies) at the live server, in a given locale."""
    contexts = []

    def _open(locale: str = "fi-FI"):
        context = chromium_browser.new_context(base_url=live_server.url, locale=locale,
                                               timezone_id="Europe/Helsinki")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def sign_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit].primary")
    page.wait_for_load_state("networkidle")
