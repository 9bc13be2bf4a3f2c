"""Scheduling an approved dispatch's issue: the workflow's schedule / unschedule, and who may."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from notices.models import AuditEvent, DispatchStatus
from notices.models.workflow import TRANSITIONS, WorkflowError

pytestmark = pytest.mark.django_db
LATER = datetime.timedelta(hours=3)


def test_a_clerk_schedules_changes_and_cancels_an_approved_dispatch(approved, clerk):
    when = timezone.now() + LATER
    approved.schedule(clerk, when)
    assert (approved.status, approved.scheduled_for, approved.scheduled_by) == (DispatchStatus.SCHEDULED, when, clerk)
    assert str(approved).startswith("Scheduled: ")
    approved.schedule(clerk, when + LATER)  # change the time until then
    assert approved.scheduled_for == when + LATER
    approved.unschedule(clerk)
    assert (approved.status, approved.scheduled_for) == (DispatchStatus.APPROVED, None)
    actions = list(AuditEvent.objects.for_object(approved).values_list("action", flat=True))
    assert actions.count("schedule") == 2 and "unschedule" in actions


def test_a_time_in_the_past_is_refused(approved, clerk):
    with pytest.raises(WorkflowError):
        approved.schedule(clerk, timezone.now() - datetime.timedelta(minutes=1))
    assert approved.status == DispatchStatus.APPROVED


def test_only_a_role_with_the_permission_schedules(approved, drafter, approver, auditor):
    for user in (drafter, approver, auditor):
        with pytest.raises(WorkflowError):
            approved.schedule(user, timezone.now() + LATER)
    assert AuditEvent.objects.filter(action="refused:schedule").count() == 3


def test_a_draft_cannot_be_scheduled(draft, clerk):
    with pytest.raises(WorkflowError):
        draft.schedule(clerk, timezone.now() + LATER)


def test_a_return_to_draft_drops_the_schedule(approved, clerk, approver):
    approved.schedule(clerk, timezone.now() + LATER)
    approved.return_to_draft(approver, "Sửa lại trích yếu.")
    assert (approved.status, approved.scheduled_for, approved.scheduled_by) == (DispatchStatus.DRAFT, None, None)


def test_the_transition_table_knows_the_scheduled_state():
    assert TRANSITIONS["schedule"].sources == (DispatchStatus.APPROVED, DispatchStatus.SCHEDULED)
    assert TRANSITIONS["unschedule"].target == DispatchStatus.APPROVED
    assert DispatchStatus.SCHEDULED in TRANSITIONS["issue"].sources
    assert DispatchStatus.SCHEDULED in TRANSITIONS["return"].sources
