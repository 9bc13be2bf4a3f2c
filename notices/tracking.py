"""The one receiver of anymail's normalised tracking events: what the provider says happened to a message.

anymail's webhook views (included at /anymail/, protected by ANYMAIL WEBHOOK_SECRET basic auth) parse each
provider's payload into an `AnymailTrackingEvent` and send the `tracking` signal. This receiver matches the
event to a delivery by the provider's message id, applies it at most once (the event id is unique in
`DeliveryEvent.provider_event_id`), and puts the address on the suppression list after a hard bounce or a
complaint (and opens a correction item for the directory stewards, `recipients.correcting`). It does a few small queries, so the provider's webhook call stays fast.
"""

from __future__ import annotations

import hashlib
import logging
import time

from anymail.signals import EventType, tracking
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone

from notices.models import Delivery, DeliveryEvent, DeliveryStatus
from recipients import correcting
from recipients.models import Suppression, SuppressionReason

log = logging.getLogger(__name__)
S = DeliveryStatus

STATUS_OF_EVENT = {
    EventType.DELIVERED: S.DELIVERED,
    EventType.BOUNCED: S.BOUNCED,
    EventType.COMPLAINED: S.COMPLAINED,
    EventType.DEFERRED: S.DEFERRED,
    EventType.REJECTED: S.FAILED,
    EventType.FAILED: S.FAILED,
}
SUPPRESS: dict[str, SuppressionReason] = {
    S.BOUNCED: SuppressionReason.HARD_BOUNCE,
    S.COMPLAINED: SuppressionReason.COMPLAINT,
}


def event_key(event, esp_name: str) -> str:
    """Return the event's unique id: the provider's, or a digest of what identifies it when it has none."""
    if event.event_id:
        return f"{esp_name.lower()}:{event.event_id}"[:255]
    parts = [esp_name, event.message_id, event.event_type, event.recipient, str(event.timestamp)]
    return f"{esp_name.lower()}:sha256:" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def describe(event) -> str:
    """Return the human-readable detail of an event (the provider's words)."""
    words = [event.event_type, event.reject_reason, event.description, event.mta_response]
    return " | ".join(str(word) for word in words if word)


@receiver(tracking, dispatch_uid="notices.tracking.apply")
def apply(sender, event, esp_name: str, **kwargs) -> None:
    """Apply one tracking event to its delivery, once."""
    status = STATUS_OF_EVENT.get(event.event_type)
    delivery = Delivery.every_kind.filter(provider_message_id=event.message_id).first() if event.message_id else None
    if status is None or delivery is None:
        log.info("Tracking event %s for message %s: ignored", event.event_type, event.message_id)
        return
    apply_to(delivery, status, event_key(event, esp_name), describe(event), event.timestamp or timezone.now())


def apply_to(delivery: Delivery, status: str, key: str, detail: str, at) -> bool:
    """Move the delivery and record the event under its id; return False if this event was already applied.

    An event that does not change the status (e.g. "deferred" after "delivered") is still recorded, so a
    repeat of it is recognised too.
    """
    try:
        with transaction.atomic():
            moved = Delivery.every_kind.transition(delivery.pk, status, detail, event_id=key,
                                                   last_error=detail if status in SUPPRESS else delivery.last_error)  # fmt: skip
            if not moved:
                DeliveryEvent.objects.create(delivery=delivery, type=f"provider:{status}", at=at,
                                             detail=detail[:2000], provider_event_id=key)  # fmt: skip
            if status in SUPPRESS:
                suppress(delivery.address, SUPPRESS[status], detail)
                # The directory stewards' work item: the organisation must give an address that works.
                correcting.open_item(delivery.organization_id, delivery.address, SUPPRESS[status], detail, at)
    except IntegrityError:
        log.info("Tracking event %s already applied", key)
        return False
    return True


def suppress(address: str, reason: str, detail: str) -> None:
    """Put an address on the active suppression list unless it already is."""
    if not Suppression.objects.active().filter(address=address).exists():
        with transaction.atomic():  # a savepoint: a concurrent insert of the same address is not an error
            try:
                Suppression.objects.create(address=address, reason=reason, source="tracking", detail=detail[:2000])
            except IntegrityError:
                pass


# --- Replay protection of providers that sign only a timestamp and a token (Mailgun) -------------------------
class StaleOrReplayed(ValueError):
    """A signed webhook call that is too old, from the future, or carries a token already used."""


def token_key(provider: str, token: str) -> str:
    return f"webhook-token:{provider.lower()}:{hashlib.sha256(token.encode()).hexdigest()}"


def claim_signature(provider: str, timestamp: str, token: str, max_age: int | None = None) -> str:
    """Accept a signed (timestamp, token) pair once, and only while fresh; return the key that holds the token.

    The provider's signature covers only these two values, so a captured one could be pasted onto a forged
    event: an old timestamp, or a token seen before, is refused. The token is kept for twice the allowed age
    (Redis SET NX with expiry), longer than any timestamp it could still be accepted with.
    """
    max_age = settings.WEBHOOK_MAX_AGE_SECONDS if max_age is None else max_age
    try:
        age = time.time() - float(timestamp)
    except (TypeError, ValueError) as exc:
        raise StaleOrReplayed("the signature timestamp is not a number") from exc
    if not -60 <= age <= max_age:  # a minute of clock skew the other way
        raise StaleOrReplayed(f"the signature is {age:.0f} s old (at most {max_age} s allowed)")
    key = token_key(provider, token)
    if not cache.add(key, 1, timeout=2 * max_age):
        raise StaleOrReplayed("the signature token was already used")
    return key


def release_signature(key: str) -> None:
    """Forget a claimed token when its call failed, so the provider's retry of the same call is accepted."""
    cache.delete(key)
