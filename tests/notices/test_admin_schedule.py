"""Scheduling from the dispatch page: the suggested time, the schedule, its change and its cancellation."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from notices.models import DispatchStatus
from tests.notices.conftest import at_hanoi_time

pytestmark = pytest.mark.django_db


def workflow(dispatch, action: str) -> str:
    return reverse("admin:notices_dispatch_workflow", args=[dispatch.pk, action])


def test_the_form_suggests_seven_oclock_on_the_next_working_day_after_tet(client, approved, clerk, monkeypatch):
    at_hanoi_time(monkeypatch, 2027, 2, 3, 15, 0)
    client.force_login(clerk)
    page = client.get(workflow(approved, "schedule")).content.decode()
    assert 'value="2027-02-11T07:00"' in page


def test_the_clerk_schedules_then_cancels_from_the_page(client, approved, clerk):
    client.force_login(clerk)
    change = client.get(reverse("admin:notices_dispatch_change", args=[approved.pk])).content.decode()
    assert workflow(approved, "schedule") in change
    when = timezone.localtime(timezone.now() + timezone.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    client.post(workflow(approved, "schedule"), {"scheduled_for": when})
    approved.refresh_from_db()
    assert approved.status == DispatchStatus.SCHEDULED
    assert timezone.localtime(approved.scheduled_for).strftime("%Y-%m-%dT%H:%M") == when
    client.post(workflow(approved, "unschedule"))
    approved.refresh_from_db()
    assert approved.status == DispatchStatus.APPROVED and approved.scheduled_for is None


def test_a_bad_time_is_refused_with_a_message_and_changes_nothing(client, approved, clerk):
    client.force_login(clerk)
    response = client.post(workflow(approved, "schedule"), {"scheduled_for": "ngày mai"}, follow=True)
    assert "Enter the date and time of the scheduled issue." in response.content.decode()
    approved.refresh_from_db()
    assert approved.status == DispatchStatus.APPROVED


def test_a_drafter_cannot_schedule(client, approved, drafter):
    client.force_login(drafter)
    client.post(workflow(approved, "schedule"), {"scheduled_for": "2099-01-05T07:00"})
    approved.refresh_from_db()
    assert approved.status == DispatchStatus.APPROVED
