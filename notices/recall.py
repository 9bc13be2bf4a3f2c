"""Recall notices: tell every recipient of a recalled dispatch to discard it, one email per recipient.

A recall notice is a delivery of the kind "recall": the send loop sends it like any other email, under the
shared rate limit and the suppression list, retried with backoff and swept when a task is lost.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from notices.models import Delivery, DeliveryEvent, DeliveryKind, DeliveryStatus, Dispatch, RecallNotice, Reminder
from notices.models.delivery import STOPPABLE, URGENT_QUEUE, enqueue

S = DeliveryStatus


def queue_notices(dispatch: Dispatch) -> int:
    """Stop what still waits, write one notice per address already sent the dispatch, queue them; return how many."""
    dispatch.deliveries.filter(STOPPABLE).move_all(S.CANCELLED, "the dispatch was recalled", next_attempt_at=None)
    Reminder.objects.filter(STOPPABLE, dispatch=dispatch).move_all(
        S.CANCELLED, "the dispatch was recalled", next_attempt_at=None
    )
    already = RecallNotice.objects.filter(dispatch=dispatch).values("address")
    sent = dispatch.deliveries.filter(sent_at__isnull=False).exclude(address__in=already)
    now = timezone.now()
    # One notice per address, even where it received two organisations' copies of a personalised dispatch.
    first_per_address = {d.address: d for d in sent.only("organization_id", "organization_name", "search_name", "address")
                         .order_by("-pk")}.values()  # fmt: skip
    notices = Delivery.every_kind.bulk_create(
        Delivery(dispatch=dispatch, kind=DeliveryKind.RECALL, organization_id=d.organization_id,
                 organization_name=d.organization_name, search_name=d.search_name, address=d.address, created_at=now,
                 updated_at=now)
        for d in first_per_address
    )  # fmt: skip
    DeliveryEvent.objects.bulk_create(DeliveryEvent(delivery_id=n.pk, type=S.QUEUED, at=now) for n in notices)
    ids = sorted(n.pk for n in notices)
    transaction.on_commit(lambda: enqueue(ids, URGENT_QUEUE))  # a recall is urgent whatever the dispatch was
    return len(notices)


def notify_late_recipients(dispatch_id: int) -> int:
    """Queue the notices of a recalled dispatch's emails that a worker sent before the recall but recorded after it.

    The recall wrote notices for the deliveries then known as sent; a batch already in the provider's hands
    records its sent messages later. The dispatch row is locked, so two batches finishing together write each
    notice once.
    """
    with transaction.atomic():
        dispatch = Dispatch.objects.select_for_update().get(pk=dispatch_id)
        return queue_notices(dispatch)
