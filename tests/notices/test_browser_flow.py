"""The whole workflow in a real Chromium: draft, submit, refused self-approval, approve, issue, send, audit."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.conf import settings

from notices import roles
from notices.models import AuditEvent, Dispatch, DispatchStatus
from tests.browser_fixtures import CHROMIUM_ARGS
from tests.conftest import make_group, make_user, wait_until
from tests.second_factor import pass_second_step

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "browser_flow"
PASSWORD = "pw-for-tests-only"


@pytest.fixture
def browser(monkeypatch):
    """A headless Debian Chromium driven by Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Person:
    """One member of staff in their own browser context."""

    def __init__(self, browser, live_server, username: str) -> None:
        self.base = live_server.url
        self.page = browser.new_context(accept_downloads=True, locale="vi-VN").new_page()
        self.username = username
        self.page.goto(f"{self.base}/admin/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("input[type=submit]")
        pass_second_step(self.page, username)
        self.page.wait_for_selector("#user-tools")

    def shot(self, step: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{step}-{self.username}.png"), full_page=True)

    def open(self, path: str) -> None:
        self.page.goto(f"{self.base}{path}")

    def click_and_wait(self, selector: str) -> None:
        with self.page.expect_navigation():
            self.page.click(selector)


# Submit a POST to the URL with the page's CSRF token, as a user could without the button.
FORGED_POST = """url => {
  const form = document.createElement("form");
  form.method = "post";
  form.action = url;
  const token = document.createElement("input");
  token.name = "csrfmiddlewaretoken";
  token.value = document.querySelector("[name=csrfmiddlewaretoken]").value;
  form.appendChild(token);
  document.body.appendChild(form);
  form.submit();
}"""


def select_option_by_text(page, selector: str, text: str) -> None:
    page.select_option(selector, label=page.locator(f"{selector} option", has_text=text).first.inner_text())


def test_draft_approve_issue_send_and_audit_in_a_browser(
    browser, live_server, issuer, unit, signer, smtp_server, celery_worker
):
    make_group(3)
    drafter = make_user("soanthao", roles.DRAFTER)
    drafter.groups.add(roles.ensure_roles()[roles.APPROVER])  # may approve others' drafts, never their own
    for username, role in [("pheduyet", roles.APPROVER), ("vanthu", roles.CLERK), ("kiemtoan", roles.AUDITOR)]:
        make_user(username, role)

    # 1. The drafter writes a dispatch to the group and submits it.
    writer = Person(browser, live_server, "soanthao")
    writer.open("/admin/notices/dispatch/add/")
    select_option_by_text(writer.page, "#id_issuer", "HÀ NỘI")
    select_option_by_text(writer.page, "#id_drafting_unit", "QLT")
    select_option_by_text(writer.page, "#id_signer", "Nguyễn Văn Minh")
    writer.page.fill("#id_subject", "tăng cường phối hợp thu BHXH năm 2026")
    writer.page.locator(".richtext-page").click()  # the admin's rich-text editor
    writer.page.keyboard.type("Đề nghị Quý cơ quan phối hợp thực hiện./.")
    writer.page.click(".field-groups .select2-selection")
    writer.page.keyboard.type("BHXH")
    writer.page.locator(".select2-results__option", has_text="BHXH cơ sở").click()
    writer.shot("1-draft")
    writer.click_and_wait("input[name=_continue]")
    dispatch = Dispatch.objects.get(subject="tăng cường phối hợp thu BHXH năm 2026")
    assert dispatch.created_by == drafter and dispatch.groups.count() == 1
    writer.click_and_wait("button.workflow-submit")
    writer.shot("2-submitted")
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.SUBMITTED

    # 2. The drafter is not offered "Approve" on their own dispatch; a hand-made POST is refused and audited.
    assert writer.page.locator(".workflow-approve").count() == 0
    with writer.page.expect_navigation():
        writer.page.evaluate(FORGED_POST, f"/admin/notices/dispatch/{dispatch.pk}/workflow/approve/")
    writer.shot("3-self-approval-refused")
    assert "You cannot approve a dispatch you drafted." in writer.page.inner_text(".messagelist")
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.SUBMITTED

    # 3. The approver approves.
    reviewer = Person(browser, live_server, "pheduyet")
    reviewer.open(f"/admin/notices/dispatch/{dispatch.pk}/change/")
    reviewer.click_and_wait("button.workflow-approve")
    reviewer.shot("4-approved")
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.APPROVED and dispatch.approved_by.username == "pheduyet"

    # 4. The clerk issues it; a real worker emails each member of the group through the real SMTP server.
    clerk = Person(browser, live_server, "vanthu")
    clerk.open(f"/admin/notices/dispatch/{dispatch.pk}/change/")
    clerk.click_and_wait("a.workflow-issue")  # first the confirmation: the number it takes, whom it reaches
    assert "01/BHXH-QLT" in clerk.page.inner_text(".next-notation")
    assert clerk.page.inner_text(".address-count") == "3"
    clerk.shot("4b-confirm-issue")
    clerk.click_and_wait(".issue-confirmation input[type=submit]")
    wait_until(lambda: len(smtp_server.messages) == 3, timeout=90)
    dispatch.refresh_from_db()
    wait_until(lambda: Dispatch.objects.get(pk=dispatch.pk).status == DispatchStatus.SENT, timeout=90)
    clerk.open(f"/admin/notices/dispatch/{dispatch.pk}/change/")
    clerk.shot("5-issued-and-sent")
    assert {m["To"] for m in smtp_server.messages} == {f"office{i:03d}@bhxh-hanoi.example.vn" for i in range(3)}

    # 5. The auditor finds the dispatch in the register, reads its history and exports its send history.
    auditor = Person(browser, live_server, "kiemtoan")
    auditor.open("/admin/notices/outgoingregister/?q=01/BHXH-QLT")
    auditor.shot("6-register")
    auditor.click_and_wait(f"a[href*='/outgoingregister/{dispatch.pk}/change/']")
    history = auditor.page.inner_text(".dispatch-history")
    for action, who in [("Submitted for approval", "soanthao"), ("Refused: Approved", "soanthao"),
                        ("Approved", "pheduyet"), ("Issued", "vanthu"), ("Sending started", "System")]:  # fmt: skip
        assert f"{who}\t{action}" in history, (action, history)
    auditor.shot("7-history")
    auditor.click_and_wait("text=Send history of this dispatch")
    auditor.shot("8-send-history")
    with auditor.page.expect_download() as download:
        auditor.page.click("a.export-csv")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert sorted(row[3] for row in rows[1:]) == [f"office{i:03d}@bhxh-hanoi.example.vn" for i in range(3)]
    assert AuditEvent.objects.filter(action="export", actor_name="kiemtoan").exists()
