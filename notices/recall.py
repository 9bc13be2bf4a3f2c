"""Recall notices: tell every recipient of a recalled dispatch to discard it, one email per recipient."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from notices import audit
from notices.models import Delivery, DeliveryStatus
from notices.models.audit import RecallNotice, RecallStatus

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def queue_notices(dispatch) -> int:
    """Cancel the deliveries still queued, write one notice per delivery already sent, and queue their emails."""
    Delivery.objects.filter(dispatch=dispatch, status=DeliveryStatus.QUEUED).update(
        status=DeliveryStatus.CANCELLED, updated_at=timezone.now()
    )
    sent = Delivery.objects.filter(dispatch=dispatch, sent_at__isnull=False).exclude(recall_notice__isnull=False)
    notices = RecallNotice.objects.bulk_create(
        RecallNotice(dispatch=dispatch, delivery=delivery, address=delivery.address) for delivery in sent
    )
    ids = [notice.pk for notice in RecallNotice.objects.filter(dispatch=dispatch, status=RecallStatus.QUEUED)]
    transaction.on_commit(lambda: [send_recall_notice.delay(pk) for pk in ids])
    return len(notices)


def build_message(notice: RecallNotice) -> EmailMessage:
    """Return the recall email for one recipient."""
    dispatch = notice.dispatch
    context = {"dispatch": dispatch, "notice": notice}
    return EmailMessage(
        subject=f"[THU HỒI] Số {dispatch.notation} V/v {dispatch.subject}",
        body=render_to_string("notices/email/recall.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notice.address],
    )


def claim(pk: int, from_status: str, to_status: str, **changes) -> bool:
    """Move one notice between statuses with a conditional update; return False if it was not in `from_status`."""
    return RecallNotice.objects.filter(pk=pk, status=from_status).update(status=to_status, **changes) == 1


@shared_task(name="notices.send_recall_notice", bind=True, max_retries=MAX_ATTEMPTS)
def send_recall_notice(self, notice_id: int) -> None:
    """Send one recall notice; retry a failure with backoff and mark it failed when retries run out."""
    if not claim(notice_id, RecallStatus.QUEUED, RecallStatus.SENDING, attempts=F("attempts") + 1):
        log.info("Recall notice %s is not queued: nothing to do", notice_id)
        return
    notice = RecallNotice.objects.select_related("dispatch__issuer", "dispatch__drafting_unit").get(pk=notice_id)
    try:
        build_message(notice).send()
    except Exception as exc:  # any SMTP or provider error: the notice must not be lost
        final = notice.attempts >= MAX_ATTEMPTS
        claim(
            notice_id, RecallStatus.SENDING, RecallStatus.FAILED if final else RecallStatus.QUEUED, last_error=str(exc)
        )
        if final:
            audit.record(None, "recall_notice_failed", notice.dispatch, {"address": notice.address, "error": str(exc)})
            return
        raise self.retry(countdown=settings.SEND_RETRY_BASE_SECONDS * 2 ** (notice.attempts - 1)) from exc
    claim(notice_id, RecallStatus.SENDING, RecallStatus.SENT, sent_at=timezone.now())
