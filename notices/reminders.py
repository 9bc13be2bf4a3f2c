"""Acknowledgement reminders: "Nhắc lại: ..." to the organisations that have not confirmed receipt.

A reminder is a delivery of the kind "reminder" (it follows the dispatch email it reminds of, whose
acknowledgement link it carries), sent by the same loop as every email: rate limit, suppression, retries, sweeper.
Beat (`notices.send_reminders`) queues a round for each dispatch whose acknowledgement deadline passed
REMINDER_AFTER_WORKING_DAYS working days ago (or its last round did); a clerk may queue one by hand. A round is
claimed with a conditional update of the dispatch's round counter, so two beats (or a beat and a clerk) never
queue the same round twice; a dispatch gets at most REMINDER_MAX rounds, never once it is recalled, and never
reaches an organisation that has acknowledged.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notices.models import AuditEvent, Delivery, DeliveryEvent, DeliveryKind, DeliveryStatus, Dispatch, DispatchStatus
from notices.models.delivery import enqueue
from notices.working_days import Calendar, today

S = DeliveryStatus
REMINDABLE = (DispatchStatus.SENDING, DispatchStatus.SENT, DispatchStatus.PARTLY_FAILED)
NOT_RECEIVED = (S.BOUNCED, S.COMPLAINED, S.FAILED, S.SUPPRESSED, S.CANCELLED)


def to_remind(dispatch: Dispatch):
    """Return the dispatch emails to remind: sent, not bounced, of an organisation that has not acknowledged."""
    acknowledged = (
        Delivery.objects.of_dispatch(dispatch).filter(acknowledged_at__isnull=False).values("organization_id")
    )
    return (
        Delivery.objects.of_dispatch(dispatch)
        .filter(sent_at__isnull=False, acknowledged_at__isnull=True)
        .exclude(status__in=NOT_RECEIVED)
        .exclude(organization_id__in=acknowledged)
    )


def refusal(dispatch: Dispatch):
    """Return why no reminder may be sent for the dispatch now (a message), or None."""
    if dispatch.status == DispatchStatus.RECALLED:
        return _("The dispatch was recalled: nobody is reminded of it.")
    if not dispatch.is_emailed or dispatch.status not in REMINDABLE:
        return _("Only a dispatch that has been emailed can be reminded.")
    if dispatch.reminder_rounds >= settings.REMINDER_MAX:
        return _("The dispatch has had its %(max)d reminders already.") % {"max": settings.REMINDER_MAX}
    return None


def is_due(dispatch: Dispatch, calendar: Calendar, day: datetime.date) -> bool:
    """Return whether the next automatic round is due on `day`: REMINDER_AFTER_WORKING_DAYS after the deadline,
    or after the last round."""
    if not dispatch.acknowledge_by:
        return False
    last = timezone.localdate(dispatch.last_reminded_at) if dispatch.last_reminded_at else dispatch.acknowledge_by
    return day >= calendar.add(last, settings.REMINDER_AFTER_WORKING_DAYS)


def queue_round(dispatch: Dispatch, user=None) -> int:
    """Claim the dispatch's next round and queue one reminder per address to remind; return how many.

    Raise nothing: a refused, already claimed or empty round queues 0.
    """
    if refusal(dispatch) is not None:
        return 0
    round_number, now = dispatch.reminder_rounds + 1, timezone.now()
    with transaction.atomic():
        claimed = Dispatch.objects.filter(pk=dispatch.pk, reminder_rounds=round_number - 1).exclude(
            status=DispatchStatus.RECALLED).update(reminder_rounds=round_number, last_reminded_at=now)  # fmt: skip
        if not claimed:
            return 0
        reminders = write_round(dispatch, round_number, now)
        AuditEvent.objects.record(user, "remind", dispatch, {"round": round_number, "reminders": len(reminders),
                                                             "by_hand": user is not None})  # fmt: skip
        ids = sorted(r.pk for r in reminders)
        queue = dispatch.send_queue
        transaction.on_commit(lambda: enqueue(ids, queue))
    dispatch.refresh_from_db(fields=["reminder_rounds", "last_reminded_at"])
    return len(reminders)


def write_round(dispatch: Dispatch, round_number: int, now: datetime.datetime) -> list[Delivery]:
    """Write the round's reminder rows and their events, and note the reminder on each delivery reminded."""
    originals = list(to_remind(dispatch).only("pk", "organization_id", "organization_name", "search_name", "address"))
    reminders = Delivery.every_kind.bulk_create(
        Delivery(dispatch=dispatch, kind=DeliveryKind.REMINDER, reminds_id=d.pk, reminder_round=round_number,
                 organization_id=d.organization_id, organization_name=d.organization_name, search_name=d.search_name,
                 address=d.address, created_at=now, updated_at=now)
        for d in originals
    )  # fmt: skip
    DeliveryEvent.objects.bulk_create(
        [DeliveryEvent(delivery_id=r.pk, type=S.QUEUED, at=now) for r in reminders]
        + [DeliveryEvent(delivery_id=d.pk, type="reminded", at=now, detail=f"round {round_number}") for d in originals]
    )
    return reminders


def queue_due() -> int:
    """Queue the rounds due today for every dispatch that asks for acknowledgement (beat); return how many."""
    calendar, day = Calendar(), today()
    if not calendar.is_working_day(day):
        return 0  # reminders go out on working days only
    candidates = Dispatch.objects.filter(status__in=REMINDABLE, acknowledge_by__lt=day,
                                         reminder_rounds__lt=settings.REMINDER_MAX).exclude(secrecy__gt="")  # fmt: skip
    return sum(queue_round(d) for d in candidates.select_related("drafting_unit") if is_due(d, calendar, day))
