"""Real Chromium: a receiver checks a genuine and a tampered copy; a drafter formats the body in the editor."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connections
from django.utils import timezone
from playwright.sync_api import sync_playwright

from notices.models import Dispatch
from tests.browser_fixtures import CHROMIUM_ARGS
from tests.notices.conftest import issue_as_number, stored_pdf
from tests.notices.test_signing import flip_a_signed_byte
from tests.second_factor import pass_second_step


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API keeps an event loop running in this thread; our ORM calls here are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(15000)
        yield page
        browser.close()
        # ORM calls made while Playwright runs use a connection of their own context: close it here.
        connections.close_all()


@pytest.fixture
def issued(transactional_db, draft, clerk, monkeypatch, signing_certificate) -> Dispatch:
    """Issue a signed dispatch before the browser starts (pyHanko runs its own event loop)."""
    cache.delete("verify-rate:127.0.0.1")
    yield issue_as_number(draft, clerk, 5, when=(timezone.localdate().year, 1, 1))
    cache.delete("verify-rate:127.0.0.1")


def test_a_receiver_checks_a_genuine_and_a_tampered_copy(issued, live_server, browser_page, tmp_path):
    dispatch = issued
    genuine, tampered = tmp_path / "cong-van.pdf", tmp_path / "cong-van-sua.pdf"
    genuine.write_bytes(stored_pdf(dispatch))
    tampered.write_bytes(flip_a_signed_byte(stored_pdf(dispatch)))
    page = browser_page

    page.goto(f"{live_server.url}/xac-thuc/")
    page.fill("#id_code", dispatch.short_code.lower())
    page.click("button[type=submit]")
    page.wait_for_selector("[data-validity=valid]")
    assert dispatch.notation in page.inner_text(".notation")

    page.set_input_files("#id_file", str(genuine))
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector("[data-upload=identical]")
    assert page.locator("[data-signature=intact]").count() == 1

    page.set_input_files("#id_file", str(tampered))
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector("[data-upload=different]")
    assert page.locator("[data-signature=broken]").count() == 1


def test_a_drafter_formats_bold_a_list_and_a_table_in_the_editor(
    transactional_db, live_server, browser_page, draft, drafter
):
    page = browser_page
    page.goto(f"{live_server.url}/admin/login/?next=/admin/notices/dispatch/{draft.pk}/change/")
    page.fill("#id_username", drafter.username)
    page.fill("#id_password", "pw-for-tests-only")
    page.click("input[type=submit]")
    pass_second_step(page, drafter.username)
    editor = page.locator(".richtext-page")
    editor.wait_for()
    assert page.locator("textarea[name=body]").is_hidden()

    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.click("button[data-command=bold]")
    page.keyboard.type("Lưu ý quan trọng")
    page.click("button[data-command=bold]")
    page.keyboard.press("Enter")
    page.click("button[data-command=insertUnorderedList]")
    page.keyboard.type("Rà soát đơn vị nợ đóng")
    page.click("button[data-command=insertTable]")
    for text in ["STT", "Nội dung", "Thời hạn", "1"]:  # Tab walks the cells and adds a row at the end
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist")

    body = Dispatch.objects.get(pk=draft.pk).body
    assert "<b>Lưu ý quan trọng</b>" in body or "<strong>Lưu ý quan trọng</strong>" in body
    assert "<ul><li>Rà soát đơn vị nợ đóng" in body
    assert "<tr><td>STT</td><td>Nội dung</td><td>Thời hạn</td></tr><tr><td>1</td>" in body
    assert "<p><table>" not in body and "<p><ul>" not in body
    assert body.startswith("<p>Bảo hiểm xã hội thành phố Hà Nội đề nghị")
