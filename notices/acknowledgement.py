"""Acknowledgement of receipt: a personal signed link in each email, no login.

Opening the link shows a page with one button; only pressing it (a POST) records the acknowledgement,
because mail scanners open every link in a message and must not acknowledge on the reader's behalf.
Only the first acknowledgement is kept; the reader's IP address is stored only as a keyed hash.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from notices.clients import client_ip
from notices.models import Delivery, DeliveryEvent

SALT = "notices.acknowledgement"
ACKNOWLEDGED = "acknowledged"


def token(delivery_id: int) -> str:
    """Return the signed token that names one delivery."""
    return signer(settings.SECRET_KEY).sign(str(delivery_id))


@functools.cache
def signer(secret_key: str) -> signing.Signer:
    """Return the token signer for a secret key (made once: a token is signed for every message)."""
    return signing.Signer(key=secret_key, salt=SALT)


def url(delivery_id: int) -> str:
    """Return the absolute acknowledgement link of a delivery."""
    return url_prefix() + token(delivery_id) + "/"


@functools.cache
def url_prefix() -> str:
    """Return the acknowledgement links' common start (resolved once: it is asked for every message)."""
    return settings.PUBLIC_BASE_URL + reverse("acknowledge", args=["T"]).removesuffix("T/")


def delivery_id_from(value: str) -> int | None:
    """Return the delivery id a token names, or None if the token is forged or altered."""
    try:
        return int(signing.Signer(salt=SALT).unsign(value))
    except (signing.BadSignature, ValueError):
        return None


def hash_ip(ip: str) -> str:
    """Return a keyed hash of an IP address: comparable between acknowledgements, not reversible by a reader."""
    return hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()


def record(delivery_id: int, ip: str) -> bool:
    """Record the first acknowledgement of a delivery; return False if it was already acknowledged."""
    now = timezone.now()
    with transaction.atomic():
        first = Delivery.every_kind.filter(pk=delivery_id, acknowledged_at__isnull=True).update(acknowledged_at=now)
        if first:
            DeliveryEvent.objects.create(
                delivery_id=delivery_id, type=ACKNOWLEDGED, at=now, detail=f"ip-sha256:{hash_ip(ip)}"
            )
    return bool(first)


@csrf_exempt  # the signed token is the credential; readers have no session with us
@require_http_methods(["GET", "POST"])
def acknowledge(request: HttpRequest, token: str) -> HttpResponse:
    """Show the confirmation button (GET) or record the acknowledgement and thank the reader (POST)."""
    delivery_id = delivery_id_from(token)
    deliveries = Delivery.every_kind.select_related("dispatch__issuer", "dispatch__drafting_unit")
    delivery = deliveries.filter(pk=delivery_id).first() if delivery_id else None
    if delivery is None:
        return render(request, "notices/acknowledgement.html", {"invalid": True}, status=400)
    if request.method == "POST":
        record(delivery.pk, client_ip(request) or "")
        delivery.refresh_from_db(fields=["acknowledged_at"])
    return render(request, "notices/acknowledgement.html", {"delivery": delivery, "dispatch": delivery.dispatch})
