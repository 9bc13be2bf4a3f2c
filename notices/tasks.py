"""Celery tasks: thin wrappers that take IDs, guard on status, and call the sending module."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from notices import sending
from notices.models import Delivery, DeliveryStatus, Dispatch, DispatchStatus

log = logging.getLogger(__name__)


@shared_task(name="notices.fan_out")
def fan_out(dispatch_id: int) -> None:
    """Write the deliveries of an issued dispatch and queue one send task per delivery."""
    dispatch = Dispatch.objects.get(pk=dispatch_id)
    if dispatch.status not in (DispatchStatus.ISSUED, DispatchStatus.SENDING):
        log.info("Dispatch %s is %s: nothing to fan out", dispatch_id, dispatch.status)
        return
    sending.create_deliveries(dispatch)
    queued = Delivery.objects.filter(dispatch_id=dispatch_id, status=DeliveryStatus.QUEUED)
    for delivery_id in queued.values_list("pk", flat=True).iterator():
        send_delivery.delay(delivery_id)
    sending.finish_dispatch_if_done(dispatch_id)


def retry_delay(attempt: int) -> float:
    """Return an exponential backoff with jitter for the given attempt (1-based)."""
    base = settings.SEND_RETRY_BASE_SECONDS
    return base * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)


@shared_task(name="notices.send_delivery", bind=True, max_retries=None)
def send_delivery(self, delivery_id: int) -> None:
    """Send one delivery's email; retry transient failures, fail permanent ones at once."""
    claimed = Delivery.objects.claim(
        delivery_id, DeliveryStatus.QUEUED, DeliveryStatus.SENDING, attempts=F("attempts") + 1
    )
    if not claimed:
        log.info("Delivery %s is not queued: a duplicate task, nothing to do", delivery_id)
        return
    delivery = Delivery.objects.select_related("dispatch__issuer", "dispatch__drafting_unit").get(pk=delivery_id)
    try:
        sending.send_one(delivery)
    except sending.SendError as exc:
        if exc.permanent or delivery.attempts >= settings.SEND_MAX_ATTEMPTS:
            Delivery.objects.claim(delivery_id, DeliveryStatus.SENDING, DeliveryStatus.FAILED, last_error=str(exc))
            sending.finish_dispatch_if_done(delivery.dispatch_id)
            return
        Delivery.objects.claim(delivery_id, DeliveryStatus.SENDING, DeliveryStatus.QUEUED, last_error=str(exc))
        raise self.retry(countdown=retry_delay(delivery.attempts)) from exc
    Delivery.objects.claim(delivery_id, DeliveryStatus.SENDING, DeliveryStatus.SENT, sent_at=timezone.now())
    sending.finish_dispatch_if_done(delivery.dispatch_id)
