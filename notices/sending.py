"""Turn an issued dispatch into one email per recipient address, and send one of them."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notices import signals
from notices.models import Delivery, DeliveryStatus, Dispatch, DispatchStatus

log = logging.getLogger(__name__)


class SendError(Exception):
    """Sending one delivery failed; `permanent` says whether trying again could help."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def start(dispatch_id: int) -> None:
    """Queue the fan-out of an issued dispatch (called after the issuing transaction commits)."""
    from notices import tasks

    tasks.fan_out.delay(dispatch_id)


def create_deliveries(dispatch: Dispatch) -> int:
    """Write one queued delivery per distinct recipient address; return how many exist."""
    if dispatch.is_secret:
        raise SendError("Secret dispatches are never emailed.", permanent=True)
    rows, seen = [], set()
    for org_id, org_name, address in dispatch.recipient_addresses():
        if address not in seen:
            seen.add(address)
            rows.append(
                Delivery(dispatch=dispatch, organization_id=org_id, organization_name=org_name, address=address)
            )
    with transaction.atomic():
        Delivery.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        started = Dispatch.objects.filter(pk=dispatch.pk, status=DispatchStatus.ISSUED).update(
            status=DispatchStatus.SENDING
        )
        if started:
            signals.sending_started.send(sender=Dispatch, dispatch=dispatch)
    return dispatch.deliveries.count()


def build_message(delivery: Delivery) -> EmailMultiAlternatives:
    """Return the email for one delivery: one recipient, the stored PDF attached."""
    dispatch = delivery.dispatch
    context = {"dispatch": dispatch, "delivery": delivery}
    message = EmailMultiAlternatives(
        subject=dispatch.email_subject(),
        body=render_to_string("notices/email/dispatch.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.address],
    )
    message.attach_alternative(render_to_string("notices/email/dispatch.html", context), "text/html")
    dispatch.pdf.open("rb")
    with dispatch.pdf:
        message.attach(
            f"{dispatch.number_display}-{dispatch.issuer.abbreviation}-{dispatch.drafting_unit.abbreviation}.pdf",
            dispatch.pdf.read(),
            "application/pdf",
        )
    return message


def send_one(delivery: Delivery) -> None:
    """Send the delivery's email, raising SendError that says whether the failure is permanent."""
    try:
        build_message(delivery).send()
    except smtplib.SMTPRecipientsRefused as exc:
        code, reason = next(iter(exc.recipients.values()))
        raise SendError(f"{code} {reason.decode(errors='replace')}", permanent=code >= 500) from exc
    except smtplib.SMTPResponseException as exc:
        raise SendError(
            f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace')}", permanent=exc.smtp_code >= 500
        ) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"{type(exc).__name__}: {exc}", permanent=False) from exc


def finish_dispatch_if_done(dispatch_id: int) -> None:
    """Mark the dispatch sent (or partly failed) once no delivery is waiting any more."""
    waiting = Delivery.objects.filter(
        dispatch_id=dispatch_id, status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]
    )
    if waiting.exists():
        return
    failed = Delivery.objects.filter(dispatch_id=dispatch_id, status=DeliveryStatus.FAILED).exists()
    final = DispatchStatus.PARTLY_FAILED if failed else DispatchStatus.SENT
    Dispatch.objects.filter(pk=dispatch_id, status=DispatchStatus.SENDING).update(
        status=final, updated_at=timezone.now()
    )
