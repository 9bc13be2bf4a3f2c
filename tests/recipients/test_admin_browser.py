"""The import as a new user does it: in real Chromium, against the live admin."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from recipients.models import Organization
from tests.browser_fixtures import CHROMIUM_ARGS
from tests.recipients.conftest import csv_bytes, employer
from tests.second_factor import pass_second_step


@pytest.fixture
def page(live_server, clerk, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in the test's thread
    clerk.set_password("pw-for-tests-only")
    clerk.save()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "vanthu")
        page.fill("#id_password", "pw-for-tests-only")
        page.click("input[type=submit]")
        pass_second_step(page, "vanthu")
        yield page
        browser.close()


def test_a_messy_file_is_previewed_with_its_errors_then_a_clean_one_is_confirmed(page, live_server, tmp_path):
    messy = tmp_path / "danh-ba.csv"
    messy.write_bytes(csv_bytes([employer(1), employer(2, emails="ketoan@@example.vn"), employer(3, kind="cty")]))
    clean = tmp_path / "danh-ba-sua.csv"
    clean.write_bytes(csv_bytes([employer(1), employer(2), employer(3)], encoding="utf-8-sig"))

    page.goto(f"{live_server.url}/admin/recipients/organization/")
    page.click("a[href$='/admin/recipients/organization/import/']")
    page.set_input_files("#id_file", str(messy))
    page.click("input[type=submit].default")

    errors = page.locator("#import-errors tbody tr")
    assert errors.count() == 2 and "ketoan@@example.vn" in errors.nth(0).inner_text()
    assert page.locator("input[name=confirm]").count() == 0
    assert Organization.objects.count() == 0

    page.click("a[href$='/import/']")
    page.set_input_files("#id_file", str(clean))
    page.click("input[type=submit].default")
    assert page.locator("#import-summary .created").inner_text() == "3"
    assert Organization.objects.count() == 0
    page.click("input[type=submit].default")

    assert page.url.endswith("/admin/recipients/organization/")
    assert page.locator(".messagelist .success").count() == 1
    assert Organization.objects.count() == 3
