"""In a real Chromium: the clerk schedules an approved dispatch, then chases those who have not
acknowledged another one from its acknowledgement report, with one confirmed action."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from notices.models import Dispatch, DispatchStatus, Reminder
from tests.conftest import approve
from tests.notices.test_browser_flow import Person, browser  # noqa: F401  (the Chromium fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_clerk_schedules_and_reminds_from_the_dispatch_pages(browser, live_server, sent, clerk, fresh_broker):  # noqa: F811
    approved = approve(Dispatch.objects.create(
        issuer=sent.issuer, drafting_unit=sent.drafting_unit, signer=sent.signer, subject="lịch họp giao ban",
        body="<p>Nội dung./.</p>", created_by=sent.created_by))  # fmt: skip
    Dispatch.objects.filter(pk=sent.pk).update(acknowledge_by=timezone.localdate() - datetime.timedelta(days=3))
    person = Person(browser, live_server, clerk.username)

    person.open(f"/admin/notices/dispatch/{approved.pk}/change/")
    person.click_and_wait("a.workflow-schedule")
    assert person.page.input_value("#id_scheduled_for").endswith("T07:00")
    person.click_and_wait("input[type=submit]")
    assert "Scheduled: it will be issued and sent at" in person.page.content()
    approved.refresh_from_db()
    assert approved.status == DispatchStatus.SCHEDULED
    assert timezone.localtime(approved.scheduled_for).strftime("%H:%M") == "07:00"

    person.open(f"/admin/notices/dispatch/{sent.pk}/acknowledgements/")
    assert "Overdue" in person.page.content()
    person.click_and_wait("text=Remind those not yet acknowledged")
    assert "to 2 addresses of 2 organisations" in person.page.inner_text("#remind-count")
    person.click_and_wait("input[type=submit]")
    assert "2 reminders are being sent." in person.page.content()
    assert Reminder.objects.filter(dispatch=sent).count() == 2
