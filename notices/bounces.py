"""Bounces of mail sent over SMTP: delivery status notifications (RFC 3464) read from the bounce mailbox over IMAP.

Every message leaves with its delivery's own return path (notices.returnpath), so the notice a mail server sends
back is addressed to a token that names the delivery and proves we issued it. Beat runs `poll` every
BOUNCE_POLL_SECONDS: at most BOUNCE_MAX_MESSAGES messages per poll, none bigger than BOUNCE_MAX_MESSAGE_BYTES read.

A notice is parsed with the standard library's `email` package: RFC 3464 is a strict MIME structure
(multipart/report; report-type=delivery-status, whose message/delivery-status part the package already splits
into its per-recipient field blocks), and we need exactly its Action and Status fields. flufl.bounce guesses
the addresses in free-form bounces of many old mail servers, but returns only addresses, not our token nor the
status code that tells a hard bounce from a soft one; a bounce that is not a DSN is kept for a person instead.

A hard bounce (Action: failed, Status 5.x.x) goes through `tracking.apply_to`, exactly as a provider webhook's
does: the delivery is marked bounced, the address suppressed, a correction item opened. Anything else (delayed,
4.x.x) only records an event. A notice with a forged or foreign token, for an unknown delivery or another
address, or not a DSN at all, changes nothing: it is flagged and moved to BOUNCE_IMAP_KEPT_FOLDER for a person.
Applied notices move to BOUNCE_IMAP_DONE_FOLDER; each is recorded under a key made from its bytes, so a notice
read twice (a move that failed, a copy put back) is recognised and changes nothing the second time.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import hashlib
import imaplib
import logging
import re
import ssl
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from notices import returnpath, tracking
from notices.models import Delivery, DeliveryEvent, DeliveryStatus

log = logging.getLogger(__name__)
# The headers in which a notice carries the address it was sent to (the envelope recipient: our return path).
ADDRESSED_TO = ("Delivered-To", "X-Original-To", "Envelope-To", "To")
STATUS = re.compile(r"^([245])\.\d{1,3}\.\d{1,3}")
APPLIED, DUPLICATE, KEPT = "applied", "duplicate", "kept"


class Unusable(ValueError):
    """A message in the bounce mailbox that changes nothing: not a DSN, a forged token, an unknown delivery."""


@dataclass
class Notice:
    """What one delivery status notification says about one of our deliveries."""

    delivery_id: int
    recipient: str
    action: str  # failed, delayed, delivered, relayed, expanded (RFC 3464 §2.3.3)
    status: str  # e.g. "5.1.1"
    diagnostic: str
    key: str  # unique per notice: the DeliveryEvent's provider_event_id

    @property
    def is_hard(self) -> bool:
        """Return whether the address is permanently unreachable (a failed delivery with a 5.x.x status)."""
        return self.action == "failed" and self.status.startswith("5")

    def detail(self) -> str:
        return f"DSN {self.action} {self.status} {self.recipient}: {self.diagnostic}"[:2000]


def read_notice(raw: bytes) -> Notice:
    """Return the notice in a raw message; raise Unusable if it is not a DSN for a return path of ours."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if message.get_content_type() != "multipart/report" or message.get_param("report-type") != "delivery-status":
        raise Unusable("not a delivery status notification (multipart/report; report-type=delivery-status)")
    delivery_id = our_delivery(message)
    fields = recipient_fields(message)
    recipient = address_in(fields.get("Final-Recipient", "") or fields.get("Original-Recipient", ""))
    status = STATUS.match(fields.get("Status", "").strip())
    if not recipient or status is None:
        raise Unusable("the notice names no final recipient or no valid status")
    digest = hashlib.sha256(raw).hexdigest()
    return Notice(delivery_id, recipient.lower(), fields.get("Action", "").strip().lower(), status.group(0),
                  " ".join(fields.get("Diagnostic-Code", "").split()), f"dsn:sha256:{digest}")  # fmt: skip


def our_delivery(message: Message) -> int:
    """Return the delivery id of the return path the notice was sent to; raise Unusable for none or a forged one."""
    for name in ADDRESSED_TO:
        for _, address in getaddresses(message.get_all(name, [])):
            delivery_id = returnpath.delivery_id_of(address)
            if delivery_id is not None:
                return delivery_id
    raise Unusable("addressed to no return path of ours (a forged, foreign or missing token)")


def recipient_fields(message: Message) -> dict[str, str]:
    """Return the first per-recipient field block of the notice's message/delivery-status part."""
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            if isinstance(blocks, list) and len(blocks) >= 2 and isinstance(blocks[1], Message):
                # the per-message block, then one per recipient
                return {name: str(value) for name, value in blocks[1].items()}
    raise Unusable("the delivery-status part has no per-recipient fields")


def address_in(field: str) -> str:
    """Return the address of a Final-Recipient field ("rfc822; someone@example.vn")."""
    kind, _, address = field.partition(";")
    return address.strip().strip("<>") if kind.strip().lower() == "rfc822" else ""


def apply(notice: Notice) -> str:
    """Apply a notice to its delivery once; return APPLIED or DUPLICATE; raise Unusable if it is not ours."""
    delivery = Delivery.every_kind.filter(pk=notice.delivery_id).first()
    if delivery is None or delivery.address.lower() != notice.recipient:
        raise Unusable(f"no delivery {notice.delivery_id} to {notice.recipient}")
    if notice.is_hard:
        applied = tracking.apply_to(delivery, DeliveryStatus.BOUNCED, notice.key, notice.detail(), timezone.now())
        return APPLIED if applied else DUPLICATE
    try:
        with transaction.atomic():
            DeliveryEvent.objects.create(delivery=delivery, type=f"dsn:{notice.action or 'unknown'}"[:30],
                                         detail=notice.detail(), provider_event_id=notice.key)  # fmt: skip
    except IntegrityError:
        return DUPLICATE
    return APPLIED


def process(raw: bytes) -> str:
    """Read and apply one message of the bounce mailbox; return APPLIED, DUPLICATE or KEPT."""
    try:
        return apply(read_notice(raw))
    except Unusable as exc:
        log.warning("Bounce mailbox: a message kept unapplied: %s", exc)
        return KEPT


@contextlib.contextmanager
def mailbox() -> Iterator[imaplib.IMAP4]:
    """Connect and log in to the bounce mailbox, select its folder, and log out afterwards."""
    host, port = settings.BOUNCE_IMAP_HOST, settings.BOUNCE_IMAP_PORT
    if settings.BOUNCE_IMAP_SSL:
        imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=30)
    else:
        imap = imaplib.IMAP4(host, port, timeout=30)
    try:
        imap.login(settings.BOUNCE_IMAP_USER, settings.BOUNCE_IMAP_PASSWORD)
        for folder in (settings.BOUNCE_IMAP_DONE_FOLDER, settings.BOUNCE_IMAP_KEPT_FOLDER):
            imap.create(folder)  # "already exists" is a NO, not an exception
        check(imap.select(settings.BOUNCE_IMAP_FOLDER))
        yield imap
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            imap.logout()


def check(response: tuple[str, list]) -> list:
    """Return the data of an IMAP response; raise if the server said NO or BAD."""
    kind, data = response
    if kind != "OK":
        raise imaplib.IMAP4.error(f"IMAP: {kind} {data!r}")
    return data


def poll() -> dict[str, int]:
    """Process the messages waiting in the bounce mailbox (at most BOUNCE_MAX_MESSAGES); return the counts."""
    counts: Counter[str] = Counter()
    with mailbox() as imap:
        uids = check(imap.uid("SEARCH", "UNDELETED"))[0].split()[: settings.BOUNCE_MAX_MESSAGES]
        for uid in uids:
            outcome = process_uid(imap, uid.decode())
            counts[outcome] += 1
        imap.expunge()
    log.info("Bounce mailbox: %s", dict(counts))
    return dict(counts)


def process_uid(imap: imaplib.IMAP4, uid: str) -> str:
    """Process one message of the mailbox and move it out of the way (flagged, when kept)."""
    size = message_size(imap, uid)
    if size > settings.BOUNCE_MAX_MESSAGE_BYTES:
        log.warning("Bounce mailbox: message %s is %s bytes, over BOUNCE_MAX_MESSAGE_BYTES: kept unread", uid, size)
        outcome = KEPT
    else:
        outcome = process(fetch(imap, uid))
    if outcome == KEPT:
        check(imap.uid("STORE", uid, "+FLAGS", r"(\Flagged)"))
    folder = settings.BOUNCE_IMAP_KEPT_FOLDER if outcome == KEPT else settings.BOUNCE_IMAP_DONE_FOLDER
    check(imap.uid("MOVE", uid, folder))
    return outcome


def message_size(imap: imaplib.IMAP4, uid: str) -> int:
    """Return the size of a message as the server reports it, without reading it."""
    data = check(imap.uid("FETCH", uid, "(RFC822.SIZE)"))
    found = re.search(rb"RFC822\.SIZE (\d+)", data[0] if isinstance(data[0], bytes) else data[0][0])
    return int(found.group(1)) if found else settings.BOUNCE_MAX_MESSAGE_BYTES + 1


def fetch(imap: imaplib.IMAP4, uid: str) -> bytes:
    """Return the raw bytes of a message without marking it seen."""
    data = check(imap.uid("FETCH", uid, "(BODY.PEEK[])"))
    return next(item[1] for item in data if isinstance(item, tuple))
