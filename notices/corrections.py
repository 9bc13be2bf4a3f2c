"""The correction loop, across the directory and the sending side: links, answers, approval, missed dispatches.

The records live in the directory (`recipients.corrections`, `recipients.correcting`); this module adds what
the directory may not know: which dispatches an address missed (the deliveries), the link email (Django's mail,
through the backend EMAIL_DELIVERY chose), the audit trail, and resending through the send loop.

Why a stored random token and not only a signature: a link must work once. A `TimestampSigner` token expires,
but nothing in it can record that it was used, so single use needs a row anyway; with the row, the token is
32 random bytes whose SHA-256 alone is stored (a reader of the database cannot rebuild a working link), its
expiry is a column, a steward can see every link sent, and spending it is one conditional UPDATE.
"""

from __future__ import annotations

import functools
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notices.models import AuditEvent, Delivery, DeliveryEvent, DeliveryKind, DeliveryStatus, DispatchStatus
from notices.models.delivery import enqueue
from recipients import correcting
from recipients.corrections import CorrectionItem, CorrectionRequest, CorrectionStatus
from recipients.models import Suppression

log = logging.getLogger(__name__)
S = DeliveryStatus
MISSED = [S.BOUNCED, S.COMPLAINED, S.SUPPRESSED, S.FAILED]
REACHED = [S.SENT, S.DELIVERED]
RECIPIENTS_LANGUAGE = "vi"  # the organisations read Vietnamese, whatever language the steward's admin speaks


class CorrectionRefused(ValueError):
    """A steward's action that the item's state does not allow (the message says why, in the user's language)."""


# --- What an address missed ---------------------------------------------------------------------------------
def missed_filter(organization, address, since) -> Q:
    """Return the filter of the deliveries the address missed since it started failing (the failing one too)."""
    return (
        Q(kind=DeliveryKind.DISPATCH, organization=organization, address=address, status__in=MISSED)
        & (Q(created_at__gte=since) | Q(updated_at__gte=since))
        & ~Q(dispatch__status=DispatchStatus.RECALLED)
    )


def reached_elsewhere():
    """Return the test that the organisation received the delivery's dispatch at another address."""
    other = Delivery.objects.filter(dispatch_id=OuterRef("dispatch_id"), organization_id=OuterRef("organization_id"),
                                    status__in=REACHED)  # fmt: skip
    return Exists(other)


def missed_deliveries(item: CorrectionItem) -> QuerySet:
    """Return the deliveries to the item's address that failed since it started failing, whose dispatch the
    organisation did not receive at another address."""
    return Delivery.objects.filter(missed_filter(item.organization_id, item.address, item.since)).exclude(
        reached_elsewhere()
    )


def missed_dispatch_ids(item: CorrectionItem) -> list[int]:
    return sorted(set(missed_deliveries(item).values_list("dispatch_id", flat=True)))


def with_missed(items: QuerySet) -> QuerySet:
    """Annotate each correction item with `missed`, the number of dispatches its address missed (one query)."""
    missed = (
        Delivery.objects.filter(missed_filter(OuterRef("organization_id"), OuterRef("address"), OuterRef("since")))
        .exclude(reached_elsewhere())
        .order_by()
        .values("organization_id")
        .annotate(n=Count("dispatch_id", distinct=True))
        .values("n")
    )
    return items.annotate(missed=Coalesce(Subquery(missed), 0))


# --- Links --------------------------------------------------------------------------------------------------
def link_url(token: str) -> str:
    """Return the absolute address of a correction link."""
    return settings.PUBLIC_BASE_URL + reverse("correction", args=[token])


def refuse_resolved(item: CorrectionItem) -> None:
    if not item.is_unresolved:
        raise CorrectionRefused(_("This correction item is already resolved."))


def send_link(item: CorrectionItem, user) -> tuple[CorrectionRequest, list[str]]:
    """Email a new link to the organisation's other working addresses; return it and the addresses."""
    refuse_resolved(item)
    addresses = correcting.other_addresses(item)
    if not addresses:
        raise CorrectionRefused(_("The organisation has no other working address: print the link for a call."))
    with transaction.atomic():
        request, token = CorrectionRequest.issue(item, user, sent_to=", ".join(addresses))
        mark_asked(item)
        AuditEvent.objects.record(user, "correction_link_sent", item.organization,
                                  {"item": item.pk, "request": request.pk, "to": addresses})  # fmt: skip
    link_email(item, token, addresses, request).send()
    return request, addresses


def print_link(item: CorrectionItem, user) -> tuple[CorrectionRequest, str]:
    """Create a link a steward reads out on the phone; return it and its address (shown once)."""
    refuse_resolved(item)
    with transaction.atomic():
        request, token = CorrectionRequest.issue(item, user)
        mark_asked(item)
        AuditEvent.objects.record(user, "correction_link_printed", item.organization,
                                  {"item": item.pk, "request": request.pk})  # fmt: skip
    return request, link_url(token)


def mark_asked(item: CorrectionItem) -> None:
    CorrectionItem.objects.filter(pk=item.pk, status=CorrectionStatus.OPEN).update(status=CorrectionStatus.ASKED)


def link_email(item: CorrectionItem, token: str, addresses: list[str], request: CorrectionRequest) -> EmailMessage:
    """Return the link's email, in Vietnamese whatever the steward's language."""
    context = {"item": item, "url": link_url(token), "expires_at": request.expires_at}
    with translation.override(RECIPIENTS_LANGUAGE):
        subject = _("Please confirm the addresses that receive our dispatches")
        body = render_to_string("notices/corrections/link_email.txt", context)
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, addresses)


# --- The organisation's answer (public page) ----------------------------------------------------------------
def rate_limited(ip: str) -> bool:
    """Count one request to the public page from this address; return True once it made too many."""
    key, window = f"correction-page:{ip}", settings.CORRECTION_RATE_WINDOW_SECONDS
    try:
        cache.add(key, 0, timeout=window)
        return cache.incr(key) > settings.CORRECTION_RATE_LIMIT
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, timeout=window)
        return False
    except Exception:  # noqa: BLE001 - a cache outage must not take the public page down
        log.warning("The correction page's rate limiter is unavailable; request allowed.", exc_info=True)
        return False


def answer(request: CorrectionRequest, addresses: list[str], primary: str, contact_name: str, contact_phone: str,
           note: str) -> bool:  # fmt: skip
    """Record the organisation's answer once (the link is spent); return False for a spent or expired link."""
    with transaction.atomic():
        if not request.spend(addresses, primary, contact_name, contact_phone, note):
            return False
        AuditEvent.objects.record(None, "correction_answered", request.item.organization,
                                  {"item": request.item_id, "request": request.pk, "addresses": addresses,
                                   "primary": primary, "by": contact_name})  # fmt: skip
    return True


# --- The steward's decision ---------------------------------------------------------------------------------
def approve(request: CorrectionRequest, user) -> correcting.Applied:
    """Apply an answer to the directory, lift the confirmed addresses' suppressions, and audit the change."""
    with transaction.atomic():
        try:
            applied = correcting.apply_answer(request, user)
        except ValueError as refused:
            raise CorrectionRefused(str(refused)) from refused
        AuditEvent.objects.record(user, "correction_approved", request.item.organization,
                                  {"item": request.item_id, "request": request.pk, "before": applied.before,
                                   "after": applied.after, "primary": applied.primary,
                                   "lifted": applied.lifted})  # fmt: skip
    return applied


def reject(request: CorrectionRequest, user) -> None:
    """Refuse an answer (the directory is unchanged), and audit it."""
    with transaction.atomic():
        if not correcting.reject_answer(request, user):
            raise CorrectionRefused(_("This answer is not waiting for a decision."))
        AuditEvent.objects.record(user, "correction_rejected", request.item.organization,
                                  {"item": request.item_id, "request": request.pk})  # fmt: skip


# --- Missed dispatches, once more -----------------------------------------------------------------------------
def resend_missed(item: CorrectionItem, user) -> dict[int, int]:
    """Queue each missed dispatch to the corrected address through the send loop, once; return {dispatch: delivery}.

    One new delivery per dispatch (the usual row before the send), queued on the dispatch's own send queue when
    the transaction commits; the failed deliveries stay as they were, for the record.
    """
    item.refresh_from_db()
    if item.status != CorrectionStatus.CORRECTED or not item.corrected_address:
        raise CorrectionRefused(_("Only a corrected item's missed dispatches can be resent."))
    if Suppression.objects.active().filter(address=item.corrected_address).exists():
        raise CorrectionRefused(_("The corrected address is on the suppression list."))
    with transaction.atomic():
        if not CorrectionItem.objects.filter(pk=item.pk, resent_at__isnull=True).update(resent_at=timezone.now()):
            raise CorrectionRefused(_("The missed dispatches were already resent."))
        queued = queue_missed(item)
        AuditEvent.objects.record(user, "correction_resent", item.organization,
                                  {"item": item.pk, "to": item.corrected_address,
                                   "dispatches": sorted(queued)})  # fmt: skip
    return queued


def queue_missed(item: CorrectionItem) -> dict[int, int]:
    """Write a queued delivery to the corrected address for each missed dispatch and queue it on commit."""
    deliveries = missed_deliveries(item).select_related("dispatch").order_by("dispatch_id", "pk")
    dispatches = {d.dispatch_id: d.dispatch for d in deliveries if d.dispatch.is_emailed}
    organization, queued = item.organization, {}
    for dispatch_id, dispatch in dispatches.items():
        delivery, created = Delivery.objects.get_or_create(
            dispatch_id=dispatch_id, kind=DeliveryKind.DISPATCH, organization=organization,
            address=item.corrected_address, defaults={"organization_name": organization.name},
        )  # fmt: skip
        if created:
            DeliveryEvent.objects.create(delivery=delivery, type=S.QUEUED, at=delivery.created_at,
                                         detail="resent after a directory correction")  # fmt: skip
            queued[dispatch_id] = delivery.pk
            transaction.on_commit(functools.partial(enqueue, [delivery.pk], dispatch.send_queue))
    return queued
