"""Per-delivery return paths (VERP): the SMTP envelope sender that tells us, when a bounce comes back, whose it is.

With BOUNCE_ADDRESS = "bounces@bhxh.example.vn", delivery 42's envelope sender is
"bounces+42-<tag>@bhxh.example.vn", where the tag is an HMAC of the delivery id under SECRET_KEY: a bounce
addressed to a token we never issued (a forgery, or one for another delivery) is recognised and changes nothing.
Lower-case hex only, because some mail servers change the case of local parts. The mail server must deliver
"bounces+anything@" to the "bounces@" mailbox (Postfix: `recipient_delimiter = +`).
"""

from __future__ import annotations

import hmac
import re
from email.utils import parseaddr

from django.conf import settings
from django.utils.crypto import salted_hmac

SALT = "notices.returnpath"
TAG_LENGTH = 20  # 80 bits of HMAC-SHA256
TOKEN = re.compile(rf"\+(\d{{1,18}})-([0-9a-f]{{{TAG_LENGTH}}})@", re.IGNORECASE)


def tag(delivery_id: int) -> str:
    """Return the delivery's HMAC tag."""
    return salted_hmac(SALT, str(delivery_id), algorithm="sha256").hexdigest()[:TAG_LENGTH]


def is_enabled() -> bool:
    """Return whether messages carry a per-delivery return path (BOUNCE_ADDRESS is set)."""
    return "@" in settings.BOUNCE_ADDRESS


def address_for(delivery_id: int) -> str:
    """Return the envelope sender of one delivery: "bounces+42-<tag>@domain"."""
    local, _, domain = parseaddr(settings.BOUNCE_ADDRESS)[1].rpartition("@")
    return f"{local}+{delivery_id}-{tag(delivery_id)}@{domain}"


def delivery_id_of(address: str) -> int | None:
    """Return the delivery id of a return path we issued, or None for anything else (a forged or foreign one)."""
    match = TOKEN.search(address or "")
    if match is None:
        return None
    delivery_id, given = int(match.group(1)), match.group(2).lower()
    return delivery_id if hmac.compare_digest(given, tag(delivery_id)) else None
