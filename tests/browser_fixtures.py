"""Debian's headless Chromium driven by Playwright's sync API: its flags, and the `browser` fixture the browser tests
share (a plugin of tests/conftest.py)."""

from __future__ import annotations

import pytest

CHROMIUM = "/usr/bin/chromium"  # Debian's package: nothing is downloaded at run time
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]  # fmt: skip


@pytest.fixture
def browser(monkeypatch):
    """A headless Chromium for the test, closed after it."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
