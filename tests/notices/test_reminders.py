"""Acknowledgement reminders through a real worker and a real SMTP server, on the Vietnamese calendar.

The clock is the one faked seam: Hà Nội's wall-clock time is set to a day after Tết 2027.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from notices import acknowledgement, issuing, reminders, sendloop
from notices.models import AuditEvent, Delivery, DeliveryEvent, DeliveryStatus, Dispatch, DispatchStatus, Reminder
from tests.conftest import wait_until
from tests.notices.conftest import at_hanoi_time

S = DeliveryStatus
OFFICE = "office{:03d}@bhxh-hanoi.example.vn"


@pytest.fixture
def awaiting(issue_to, settings):
    """A dispatch emailed to three offices before Tết 2027, due to be acknowledged on 3 February; office 0 did."""
    settings.REMINDER_AFTER_WORKING_DAYS, settings.REMINDER_MAX = 1, 2
    dispatch = issue_to(3)
    dispatch.deliveries.update(status=S.SENT, sent_at=timezone.now())
    Dispatch.objects.filter(pk=dispatch.pk).update(status=DispatchStatus.SENT, acknowledge_by="2027-02-03")
    dispatch.drafting_unit.reply_to = "qlt@bhxh.example.vn"
    dispatch.drafting_unit.save()
    acknowledgement.record(dispatch.deliveries.get(address=OFFICE.format(0)).pk, "203.0.113.9")
    dispatch.refresh_from_db()
    return dispatch


def reminded_addresses(sink) -> list[str]:
    return sorted(rcpts[0] for (_, rcpts), m in zip(sink.handler.envelopes, sink.messages, strict=True)
                  if m["Subject"].startswith("Nhắc lại:"))  # fmt: skip


def run_beat_round(sink, expected: int) -> None:
    """Queue the beat task twice, as two beats would, and wait for the worker to have sent `expected` reminders."""
    celery_app.send_task("notices.send_reminders")
    celery_app.send_task("notices.send_reminders")
    wait_until(lambda: Reminder.objects.filter(status=S.SENT).count() == expected)
    wait_until(lambda: len(sink.messages) == expected)


def test_beat_reminds_once_after_tet_only_those_who_have_not_acknowledged(
    awaiting, monkeypatch, smtp_server, celery_worker
):
    at_hanoi_time(monkeypatch, 2027, 2, 10, 9, 0)  # still Tết: no reminder on a day off
    assert reminders.queue_due() == 0
    at_hanoi_time(monkeypatch, 2027, 2, 11, 9, 0)  # the first working day after the deadline
    run_beat_round(smtp_server, 2)

    assert reminded_addresses(smtp_server) == [OFFICE.format(1), OFFICE.format(2)]
    message = smtp_server.messages[0]
    assert message["Subject"] == "Nhắc lại: [Số 07/BHXH-QLT] V/v phối hợp đôn đốc đóng BHXH, BHYT năm 2026"
    assert message["Reply-To"] == "qlt@bhxh.example.vn"
    reminded = Reminder.objects.get(address=message["To"])
    assert acknowledgement.url(reminded.reminds_id) in message.get_body(("plain",)).get_content()
    assert Reminder.objects.count() == 2  # the second beat queued nothing
    awaiting.refresh_from_db()
    assert awaiting.reminder_rounds == 1
    assert AuditEvent.objects.for_object(awaiting).get(action="remind").details == {
        "round": 1, "reminders": 2, "by_hand": False}  # fmt: skip
    assert DeliveryEvent.objects.filter(type="reminded", delivery=reminded.reminds).exists()


def test_reminders_stop_at_the_limit(awaiting, monkeypatch, smtp_server, celery_worker):
    at_hanoi_time(monkeypatch, 2027, 2, 11, 9, 0)
    run_beat_round(smtp_server, 2)
    at_hanoi_time(monkeypatch, 2027, 2, 12, 9, 0)
    run_beat_round(smtp_server, 4)
    at_hanoi_time(monkeypatch, 2027, 2, 15, 9, 0)
    assert reminders.queue_due() == 0
    awaiting.refresh_from_db()
    assert awaiting.reminder_rounds == 2
    assert reminders.queue_round(awaiting, None) == 0  # by hand neither
    assert reminders.refusal(awaiting) is not None
    assert sorted(smtp_server.handler.counts.items()) == [(OFFICE.format(1), 2), (OFFICE.format(2), 2)]


def test_a_recalled_dispatch_is_never_reminded_and_its_waiting_reminders_are_cancelled(
    awaiting, clerk, monkeypatch, smtp_server
):
    at_hanoi_time(monkeypatch, 2027, 2, 11, 9, 0)
    assert reminders.queue_round(awaiting, clerk) == 2
    ids = list(Reminder.objects.values_list("pk", flat=True))
    issuing.recall(awaiting, clerk, "Văn bản ban hành sai thẩm quyền.")
    assert set(Reminder.objects.values_list("status", flat=True)) == {S.CANCELLED}
    assert sendloop.send_batch(ids) == 0
    awaiting.refresh_from_db()
    assert reminders.queue_round(awaiting, clerk) == 0
    assert reminders.queue_due() == 0
    assert not [m for m in smtp_server.messages if m["Subject"].startswith("Nhắc lại:")]


def test_an_office_that_acknowledges_after_the_reminder_was_queued_is_not_sent_it(awaiting, clerk, smtp_server):
    assert reminders.queue_round(awaiting, clerk) == 2
    acknowledgement.record(awaiting.deliveries.get(address=OFFICE.format(1)).pk, "203.0.113.10")
    sendloop.send_batch(list(Reminder.objects.values_list("pk", flat=True)))
    assert reminded_addresses(smtp_server) == [OFFICE.format(2)]
    assert Reminder.objects.get(address=OFFICE.format(1)).status == S.CANCELLED


def test_acknowledging_through_the_reminder_acknowledges_the_dispatch_email(awaiting, clerk):
    reminders.queue_round(awaiting, clerk)
    reminder = Reminder.objects.get(address=OFFICE.format(2))
    acknowledgement.record(reminder.reminds_id, "203.0.113.11")
    assert Delivery.objects.get(address=OFFICE.format(2)).acknowledged_at is not None
    assert Delivery.objects.acknowledgement_report(awaiting).not_yet == 1


def test_a_bounced_address_is_not_reminded(awaiting, clerk):
    awaiting.deliveries.filter(address=OFFICE.format(2)).update(status=S.BOUNCED)
    assert reminders.queue_round(awaiting, clerk) == 1
