"""The operator's sending controls on the dispatch page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notices import sendloop
from notices.models import AuditEvent, Delivery, Dispatch, DispatchStatus
from notices.models.workflow import WorkflowError
from tests.browser_fixtures import CHROMIUM_ARGS
from tests.conftest import wait_until
from tests.notices.delivery_fixtures import S, ids_of


def control(client, dispatch, action: str):
    return client.post(reverse("admin:notices_dispatch_sending", args=[dispatch.pk, action]))


@pytest.mark.django_db
def test_a_clerk_pauses_resumes_and_cancels_from_the_dispatch_page(client, clerk, issue_to):
    dispatch = issue_to(3)
    client.force_login(clerk)
    page = client.get(reverse("admin:notices_dispatch_change", args=[dispatch.pk])).content.decode()
    assert "Pause sending" in page or "Tạm dừng" in page
    assert reverse("admin:notices_dispatch_progress", args=[dispatch.pk]) in page

    assert control(client, dispatch, "pause").status_code == 302
    dispatch.refresh_from_db()
    assert dispatch.sending_paused_at is not None
    assert client.get(reverse("admin:notices_dispatch_progress", args=[dispatch.pk])).json()["paused"] is True

    control(client, dispatch, "resume")
    dispatch.refresh_from_db()
    assert dispatch.sending_paused_at is None

    control(client, dispatch, "cancel")
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.SENT  # sending is over and nothing failed: not "partly failed"
    assert set(dispatch.deliveries.values_list("status", flat=True)) == {"cancelled"}
    audited = (
        AuditEvent.objects.filter(object_id=str(dispatch.pk), actor=clerk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert [a for a in audited if a.startswith("sending:")] == ["sending:pause", "sending:resume", "sending:cancel"]


@pytest.mark.django_db
def test_the_progress_endpoint_counts_deliveries_by_status(client, auditor, issue_to):
    dispatch = issue_to(3)
    client.force_login(auditor)
    data = client.get(reverse("admin:notices_dispatch_progress", args=[dispatch.pk])).json()
    assert data["total"] == 3
    assert {c["code"]: c["n"] for c in data["counts"]}["queued"] == 3


@pytest.mark.django_db
def test_only_records_clerks_and_administrators_control_sending(client, drafter, issue_to):
    dispatch = issue_to(1)
    client.force_login(drafter)
    assert control(client, dispatch, "pause").status_code == 403
    url = reverse("admin:notices_dispatch_sending", args=[dispatch.pk, "pause"])
    assert client.get(url).status_code == 405
    dispatch.refresh_from_db()
    assert dispatch.sending_paused_at is None


def test_send_a_test_copy_to_me(client, clerk, issue_to, smtp_server, celery_worker):
    dispatch = issue_to(2)
    client.force_login(clerk)
    assert control(client, dispatch, "test-copy").status_code == 302
    wait_until(lambda: len(smtp_server.messages) == 1)
    (message,) = smtp_server.messages
    assert message["To"] == "vanthu@bhxh.example.vn" and message["Subject"].startswith("[TEST]")
    assert set(dispatch.deliveries.values_list("status", flat=True)) == {"queued"}


def test_the_dispatch_page_refreshes_the_delivery_counts_by_itself(
    live_server, client, clerk, issue_to, settings, monkeypatch
):
    from playwright.sync_api import expect, sync_playwright

    monkeypatch.setenv(
        "DJANGO_ALLOW_ASYNC_UNSAFE", "true"
    )  # Playwright's loop runs in this thread, beside our ORM calls
    dispatch = issue_to(3)
    client.force_login(clerk)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        page = context.new_page()
        page.goto(f"{live_server.url}{reverse('admin:notices_dispatch_change', args=[dispatch.pk])}")
        badge = page.locator("#sending-progress")
        expect(badge).to_have_attribute("data-counts", '{"queued":3}', timeout=10_000)
        pause, cancel = page.locator("[data-when=pause]"), page.locator("[data-when=cancel]")
        expect(pause).to_be_visible()
        expect(cancel).to_be_visible()
        dispatch.deliveries.update(status="sent")  # the workers send while the clerk watches
        assert dispatch.finish_sending_if_done()
        expect(badge).to_have_attribute("data-counts", '{"sent":3}', timeout=10_000)
        expect(pause).to_be_hidden(timeout=10_000)  # the controls follow the state without a reload
        expect(cancel).to_be_hidden()
        expect(page.locator("[data-when=resend]")).to_be_hidden()
        browser.close()


@pytest.mark.django_db
def test_resend_is_offered_only_when_something_did_not_arrive(client, clerk, issue_to, smtp_server):
    dispatch = issue_to(2)
    smtp_server.handler.refuse("office001@bhxh-hanoi.example.vn", "550 5.1.1 No such mailbox")
    client.force_login(clerk)
    page = reverse("admin:notices_dispatch_change", args=[dispatch.pk])
    assert sendloop.send_batch(ids_of(dispatch)[:1]) == 1
    sendloop.send_batch(ids_of(dispatch)[1:])
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.PARTLY_FAILED and dispatch.can_resend
    assert '<li data-when="resend">' in client.get(page).content.decode(), "shown"

    Delivery.objects.filter(status=S.FAILED).update(status=S.SENT)
    Dispatch.objects.filter(pk=dispatch.pk).update(status=DispatchStatus.SENT)
    dispatch.refresh_from_db()
    assert not dispatch.can_resend
    assert '<li data-when="resend" hidden' in client.get(page).content.decode(), "drawn hidden, for the live panel"
    with pytest.raises(WorkflowError):
        dispatch.resend_undelivered()
