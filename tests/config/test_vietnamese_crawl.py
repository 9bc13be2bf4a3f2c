"""Every admin page, as every role, in a real Chromium and in Vietnamese: no English a user should not read.

The crawl opens each registered model's list, add form and change form, the auditors' screens, the import pages,
the history pages, the login and lockout pages, and reads what a person reads: the text of the page (including
what scripts add), tooltips (`title`), screen-reader labels (`aria-label`), placeholders and button captions.
Its failure lists each English give-away with the page and the role, so the catalogue can be refilled at once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from notices import audit, roles
from notices.models import Delivery, DeliveryEvent, DeliveryKind, Dispatch, DispatchStatus, RecallNotice
from recipients.models import Suppression
from tests.conftest import make_group, make_user
from tests.notices.test_browser_flow import PASSWORD
from tests.second_factor import pass_second_step

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"

# Words and phrases that only an untranslated message leaves on a Vietnamese page (case-sensitive, whole words).
GIVE_AWAYS = [
    "Please", "Dispatch", "Dispatches", "Show counts", "Hide counts", "History", "Recalled", "Replaces", "Replaced",
    "subject", "Subject", "Select", "Add", "Save", "Delete", "Change", "Search", "Filter", "Welcome", "Log out",
    "Log in", "results", "result", "Home", "View site", "Export", "Import", "Cancel", "Submit", "Approve", "Issue",
    "Sending", "Sent", "Queued", "Draft", "Recipients", "organisation", "Organisation", "address", "Address",
    "Username", "Password", "Account locked", "Attempt", "access", "Access", "the", "and", "of", "with", "by",
    "for", "is", "Yes", "No", "Unknown", "None", "Today", "Now", "Choose", "Remove", "Clear", "Close", "Show",
    "Hide", "Page", "page", "Number", "number", "status", "Status", "time", "Time", "User", "Group", "Date",
    "Failed", "Delivered", "Bounced", "Signer", "Issuer", "Appendix", "appendix", "Body", "Content", "Register",
    "Deliveries", "delivery", "Workflow", "timeline", "Timeline", "action", "Action", "actor", "details",
]  # fmt: skip
GIVE_AWAY = re.compile(r"(?<![\w@./-])(" + "|".join(re.escape(w) for w in GIVE_AWAYS) + r")(?![\w@-])")
READ_BY_PEOPLE = """() => {
    const parts = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
        acceptNode: (node) => node.parentElement.closest("script, style, template, code, pre, noscript")
            ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT,
    });
    while (walker.nextNode()) parts.push(walker.currentNode.nodeValue);
    for (const el of document.querySelectorAll("[title], [aria-label], [placeholder], [alt]")) {
        for (const name of ["title", "aria-label", "placeholder", "alt"]) {
            if (el.hasAttribute(name)) parts.push(el.getAttribute(name));
        }
    }
    for (const el of document.querySelectorAll("input[type=submit], input[type=button], input[type=reset]")) {
        parts.push(el.value);
    }
    parts.push(document.title);
    return parts.join("\\n");
}"""
ROLES = {
    "soanthao": roles.DRAFTER, "pheduyet": roles.APPROVER, "vanthu": roles.CLERK, "kiemtoan": roles.AUDITOR,
    "quantri": roles.ADMINISTRATOR,
}  # fmt: skip


def english_in(text: str) -> list[str]:
    """Return each line of `text` that holds a give-away, with the words marked: "Show [counts]"."""
    found = []
    for line in {line.strip() for line in text.splitlines()}:
        if GIVE_AWAY.search(line):
            found.append(GIVE_AWAY.sub(lambda m: f"[{m.group(0)}]", line)[:160])
    return sorted(found)


@pytest.fixture
def vietnamese(settings):
    settings.LANGUAGE_CODE = "vi"


@pytest.fixture
def records(issuer, unit, signer, drafter):
    """One of everything the admin lists, written in Vietnamese as real records are."""
    group = make_group(2, name="Bảo hiểm xã hội quận", label="BHXH các quận")
    organisation = group.members.order_by("pk").first()
    Suppression.objects.create(address="hong@vidu.vn", reason="bounce", detail="Hộp thư không tồn tại")
    draft = Dispatch.objects.create(
        issuer=issuer, drafting_unit=unit, signer=signer, subject="đôn đốc thu nợ bảo hiểm xã hội",
        body="<p>Đề nghị các đơn vị thực hiện./.</p>", created_by=drafter,
    )  # fmt: skip
    sent = Dispatch.objects.create(
        issuer=issuer, drafting_unit=unit, signer=signer, subject="phối hợp thu bảo hiểm y tế năm 2026",
        body="<p>Đề nghị phối hợp./.</p>", created_by=drafter,
    )  # fmt: skip
    sent.groups.add(group)
    Dispatch.objects.filter(pk=sent.pk).update(
        status=DispatchStatus.SENT,
        number=7,
        year=2026,
        series="regular",
        issued_at=timezone.now(),
        pdf_sha256="cd" * 32,
    )
    delivery = Delivery.objects.create(
        dispatch=sent, organization=organisation, organization_name=organisation.name, address="vanthu@quan.vn",
        status="delivered", sent_at=timezone.now(), provider_message_id="<1@thu>",
    )  # fmt: skip
    for kind in ["queued", "sending", "sent", "provider:delivered"]:
        DeliveryEvent.objects.create(delivery=delivery, type=kind, detail="250 2.0.0")
    RecallNotice.objects.create(
        dispatch=sent,
        kind=DeliveryKind.RECALL,
        organization=organisation,
        organization_name=organisation.name,
        address=delivery.address,
    )
    for action in ["submit", "approve", "issue", "sending:pause", "refused:edit", "login", "export"]:
        audit.record(drafter, action, sent, {"from": "draft", "to": "submitted"})
    return {"draft": draft, "sent": sent, "delivery": delivery}


def admin_pages(records) -> list[str]:
    """Return every admin page to read: index, each model's list, add, change and history, and the extra screens."""
    pages = ["/admin/", "/admin/password_change/"]
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        pages.append(reverse("admin:{}_{}_changelist".format(*info)))
        pages.append(reverse("admin:{}_{}_add".format(*info)))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
            pages.append(reverse("admin:{}_{}_history".format(*info), args=[first.pk]))
    pages.append(reverse("admin:notices_dispatch_change", args=[records["sent"].pk]))
    pages.append(reverse("admin:notices_outgoingregister_change", args=[records["sent"].pk]))
    pages.append(reverse("admin:notices_sendrecord_change", args=[records["delivery"].pk]))
    pages.append(reverse("admin:notices_sendrecord_changelist") + "?p=99")
    for name, args in [("admin:notices_dispatch_import_docx", [records["draft"].pk]),
                       ("admin:recipients_organization_import", [])]:  # fmt: skip
        try:
            pages.append(reverse(name, args=args))
        except NoReverseMatch:
            pass
    return pages


def read_as(browser, live_server, username: str, paths: list[str]) -> dict[str, list[str]]:
    """Log in as `username` and return the English found on each page the user may open."""
    context = browser.new_context(locale="en-US")  # the browser asks for English: the admin must not follow it
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    found = {"/admin/login/": english_in(page.evaluate(READ_BY_PEOPLE))}
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    pass_second_step(page, username)
    page.wait_for_selector("#user-tools")
    for path in paths:
        response = page.goto(f"{live_server.url}{path}")
        if response.status in (403, 404):  # the role may not open it: nothing to read
            continue
        found[path] = english_in(page.evaluate(READ_BY_PEOPLE))
    context.close()
    return found


def lockout_page(browser, live_server, settings) -> list[str]:
    """Fail the login until django-axes locks the user out, and return the English of the page it shows."""
    page = browser.new_page(locale="en-US")
    for _attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "kiemtoan")
        page.fill("#id_password", "sai-mat-khau")
        page.click("input[type=submit]")
    text = page.evaluate(READ_BY_PEOPLE)
    page.close()
    if "quá nhiều lần" not in text:  # not the Vietnamese lockout page at all
        return [f"not the Vietnamese lockout page: {text.strip()[:160]}"]
    return english_in(text)


@pytest.mark.timeout(900)  # some 300 pages in a real browser, on a shared machine
def test_no_admin_page_shows_english_to_any_role(browser, live_server, vietnamese, records, settings):
    for username, role in ROLES.items():
        if username not in {"soanthao"}:
            make_user(username, role)
    pages = admin_pages(records)
    english: dict[str, list[str]] = defaultdict(list)
    for username in ROLES:
        for path, lines in read_as(browser, live_server, username, pages).items():
            for line in lines:
                english[f"{path}  {line}"].append(username)
    for line in lockout_page(browser, live_server, settings):
        english[f"(lockout page)  {line}"].append("anonymous")
    report = [f"{where}   as {', '.join(users)}" for where, users in sorted(english.items())]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "vietnamese_crawl.txt").write_text("\n".join(report) + "\n", encoding="utf-8")
    assert not report, f"{len(report)} English lines on Vietnamese admin pages:\n" + "\n".join(report)


def test_the_give_away_list_catches_english_and_spares_vietnamese():
    assert english_in("Please correct the errors below.\nLưu và tiếp tục\nSHA-256 cd@vidu.vn") == [
        "[Please] correct [the] errors below."
    ]
    assert english_in("Show counts") == ["[Show counts]"]
    assert not english_in("Lịch sử gửi · 05/BHXH-QLT · PDF · vanthu@quan.vn")
