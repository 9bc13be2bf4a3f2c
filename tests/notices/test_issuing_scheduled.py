"""Beat issues a scheduled dispatch at its time through the issuing pipeline (`issuing.issue_scheduled`).

The clock is the one faked seam: `timezone.now()` is moved past the scheduled time.
"""

from __future__ import annotations

import datetime
import subprocess
import sys

import pytest
from django.conf import settings
from django.utils import timezone

from config.celery import app as celery_app
from notices import issuing
from notices.models import AuditEvent, Dispatch, DispatchStatus, Urgency
from tests.conftest import approve, wait_until
from tests.processes import child_environment

HOUR = datetime.timedelta(hours=1)


def move_clock(monkeypatch, moment: datetime.datetime) -> None:
    monkeypatch.setattr(timezone, "now", lambda: moment)


def test_beat_issues_a_scheduled_dispatch_at_its_time_and_its_emails_carry_the_units_reply_to(
    approved, clerk, monkeypatch, smtp_server, celery_worker, fresh_broker
):
    approved.drafting_unit.reply_to = "qlt@bhxh.example.vn"
    approved.drafting_unit.save()
    when = timezone.now() + HOUR
    approved.schedule(clerk, when)
    move_clock(monkeypatch, when - datetime.timedelta(minutes=1))
    assert issuing.issue_scheduled(approved.pk) is False  # not yet
    move_clock(monkeypatch, when + datetime.timedelta(seconds=30))
    celery_app.send_task("notices.issue_scheduled")
    celery_app.send_task("notices.issue_scheduled")  # two beats: one issue

    wait_until(lambda: len(smtp_server.messages) == 1)
    approved.refresh_from_db()
    assert (
        approved.number == 1
        and approved.issued_by == clerk
        and approved.issued_at == when + datetime.timedelta(seconds=30)
    )
    assert AuditEvent.objects.for_object(approved).filter(action="issue").count() == 1
    message = smtp_server.messages[0]
    assert message["Reply-To"] == "qlt@bhxh.example.vn"
    assert "congvan@" not in message["Reply-To"]


@pytest.mark.django_db
def test_a_dispatch_returned_to_draft_or_unscheduled_is_not_issued_at_its_old_time(
    approved, clerk, approver, monkeypatch
):
    when = timezone.now() + HOUR
    approved.schedule(clerk, when)
    approved.return_to_draft(approver, "Sửa lại.")
    move_clock(monkeypatch, when + HOUR)
    assert issuing.issue_scheduled(approved.pk) is False
    assert not Dispatch.objects.due_for_issue(when + HOUR).exists()
    approved.refresh_from_db()
    assert approved.status == DispatchStatus.DRAFT and approved.number is None


@pytest.mark.django_db
def test_an_unscheduled_dispatch_stays_approved_past_its_old_time(approved, clerk, monkeypatch):
    when = timezone.now() + HOUR
    approved.schedule(clerk, when)
    approved.unschedule(clerk)
    move_clock(monkeypatch, when + HOUR)
    assert issuing.issue_scheduled(approved.pk) is False
    approved.refresh_from_db()
    assert approved.status == DispatchStatus.APPROVED and approved.number is None


@pytest.mark.django_db
def test_a_scheduled_issue_the_clerk_may_no_longer_make_drops_the_schedule(approved, clerk, monkeypatch, caplog):
    when = timezone.now() + HOUR
    approved.schedule(clerk, when)
    clerk.groups.clear()
    move_clock(monkeypatch, when + HOUR)
    with caplog.at_level("WARNING", logger="notices.issuing"):
        assert issuing.issue_scheduled(approved.pk) is False
    approved.refresh_from_db()
    assert (approved.status, approved.scheduled_for) == (DispatchStatus.APPROVED, None)
    assert approved.updated_at == when + HOUR
    (event,) = AuditEvent.objects.for_object(approved).filter(action="refused:scheduled_issue")
    assert event.actor is None and list(event.details) == ["reason"] and "does not allow" in event.details["reason"]
    assert caplog.messages == [f"Scheduled dispatch {approved.pk} was not issued: {event.details['reason']}"]


@pytest.mark.django_db
def test_an_urgent_dispatch_must_be_acknowledged_by_the_next_working_day(approved, clerk, monkeypatch):
    approved.urgency = Urgency.URGENT
    approved.save()
    move_clock(monkeypatch, timezone.make_aware(datetime.datetime(2027, 2, 3, 10, 0)))  # the eve of Tết
    issuing.issue(approved, clerk)
    approved.refresh_from_db()
    assert approved.acknowledge_by == datetime.date(2027, 2, 11)


def test_beat_runs_the_scheduled_issue_and_the_reminders():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"notices.issue_scheduled", "notices.send_reminders"} <= tasks


@pytest.mark.django_db
def test_a_recalled_dispatch_keeps_no_schedule_and_beat_never_issues_it_again(approved, clerk, monkeypatch):
    when = timezone.now() + HOUR
    approved.schedule(clerk, when)
    move_clock(monkeypatch, when + datetime.timedelta(seconds=1))
    assert issuing.issue_scheduled(approved.pk) is True
    approved.refresh_from_db()
    issuing.recall(approved, clerk, "Ban hành nhầm.")
    approved.refresh_from_db()
    assert approved.scheduled_for is None and approved.status == DispatchStatus.RECALLED
    move_clock(monkeypatch, when + HOUR)
    assert not Dispatch.objects.due_for_issue(when + HOUR).exists()
    assert issuing.issue_scheduled(approved.pk) is False
    assert AuditEvent.objects.for_object(approved).filter(action="issue").count() == 1


def test_a_worker_registers_the_beat_tasks():
    celery_app.loader.import_default_modules()
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks <= set(celery_app.tasks)


def test_a_real_celery_beat_issues_the_scheduled_dispatch_and_not_the_one_returned_to_draft(
    approved, clerk, approver, celery_worker, fresh_broker, tmp_path
):
    """celery beat runs as its own process on the test Redis; the in-process worker issues what it queues."""
    returned = approve(Dispatch.objects.create(
        issuer=approved.issuer, drafting_unit=approved.drafting_unit, signer=approved.signer, subject="trả lại",
        body="<p>Nội dung./.</p>", created_by=approved.created_by))  # fmt: skip
    returned.schedule(clerk, timezone.now() + datetime.timedelta(seconds=2))
    returned.return_to_draft(approver, "Sửa lại.")
    approved.schedule(clerk, timezone.now() + datetime.timedelta(seconds=4))
    env = child_environment(VAR_DIR=str(tmp_path), SCHEDULE_CHECK_SECONDS="1")
    beat = subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "WARNING"],
                            cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_until(lambda: Dispatch.objects.filter(pk=approved.pk, number__isnull=False).exists(), timeout=90)
    finally:
        beat.terminate()
        beat.wait(timeout=30)
    returned.refresh_from_db()
    assert returned.status == DispatchStatus.DRAFT and returned.number is None
