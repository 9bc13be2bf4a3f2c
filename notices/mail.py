"""The one message builder: a letter every recipient of a dispatch shares, personalised per recipient.

A `Letter` is rendered once per dispatch and kind (the dispatch email, a test copy, a recall notice) with
placeholders where recipients differ, and its shared attachments are base64-encoded once: rendering the
templates and encoding the PDF for each of 100,000 recipients would cost more than sending. Each message is
then assembled from those pieces and a `Recipient` (address, Message-ID, name, personal links, and the
recipient's own attachments when it has any): bytes for SMTP, an EmailMessage for the other transports.
"""

from __future__ import annotations

import base64
import functools
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from email.header import Header
from email.utils import formatdate, parseaddr
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.html import escape

from notices import acknowledgement, returnpath
from notices.models import Delivery, DeliveryKind, Dispatch, DispatchCopy, Urgency
from notices.models.dispatch import CONTROL_CHARACTERS

Attachment = tuple[str, bytes, str]  # (file name, content, MIME type)
ORG_PLACEHOLDER = "@@CONGVAN-ORGANIZATION@@"
LINK_PLACEHOLDER = "@@CONGVAN-LINK-{}@@"
URGENT_HEADERS = {"X-Priority": "1 (Highest)", "Importance": "high", "Priority": "urgent"}
TEMPLATES: dict[str, tuple[str, str | None]] = {
    DeliveryKind.DISPATCH: ("notices/email/dispatch.txt", "notices/email/dispatch.html"),
    DeliveryKind.TEST_COPY: ("notices/email/dispatch.txt", "notices/email/dispatch.html"),
    DeliveryKind.RECALL: ("notices/email/recall.txt", None),
    DeliveryKind.REMINDER: ("notices/email/reminder.txt", None),
}
WITHOUT_ATTACHMENTS = (DeliveryKind.RECALL, DeliveryKind.REMINDER)  # they point at the dispatch, not carry it
CACHE_SIZE = 8
_cache: OrderedDict[tuple, Letter] = OrderedDict()
_lock = threading.Lock()


@dataclass
class Recipient:
    """What differs between two messages of one letter."""

    address: str
    message_id: str  # without angle brackets: the same on every retry
    organization_name: str = ""
    links: dict[str, str] = field(default_factory=dict)  # e.g. {"acknowledge": "https://..."}
    attachments: list[Attachment] | None = None  # the recipient's own (personalised letters); None: the shared ones
    subject: str = ""  # the recipient's own subject (its copy's "V/v"); '': the letter's
    return_path: str = ""  # the SMTP envelope sender: its own (notices.returnpath); '': the letter's From address


def header(value: str) -> str:
    """Return a header value, encoded when not ASCII; refuse control characters (a header injection)."""
    if CONTROL_CHARACTERS.search(value):
        raise BadHeaderError(f"Header value {value!r} contains control characters")
    return value if value.isascii() else Header(value, "utf-8").encode(maxlinelen=998)


def _b64_lines(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _attachment_part(name: str, content: bytes, mimetype: str) -> bytes:
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return (
        f'Content-Type: {mimetype}; name="{ascii_name}"\r\nContent-Disposition: attachment; filename="{ascii_name}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + _b64_lines(content)


@dataclass
class Letter:
    """What every message of one dispatch and kind shares."""

    subject: str
    text: str
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name, self.envelope_from = parseaddr(settings.DEFAULT_FROM_EMAIL)
        self.from_header = f"{header(name)} <{self.envelope_from}>" if name else self.envelope_from
        self.subject_header = f"Subject: {header(self.subject)}\r\n"
        self.head = "".join(f"{key}: {header(value)}\r\n" for key, value in self.headers.items())
        self.boundary = uuid.uuid4().hex  # base64 parts never contain "-", so one boundary serves every message
        self.shared_parts = self.encode(self.attachments)

    def encode(self, attachments: list[Attachment]) -> bytes:
        """Return the MIME parts of `attachments`, separated by the letter's boundary."""
        return f"--mixed-{self.boundary}\r\n".encode().join(_attachment_part(*item) for item in attachments)

    def personalise(self, recipient: Recipient) -> tuple[str, str]:
        """Return the text and HTML bodies for one recipient."""
        text, html = self.text.replace(ORG_PLACEHOLDER, recipient.organization_name), self.html
        html = html.replace(ORG_PLACEHOLDER, escape(recipient.organization_name))
        for name, url in recipient.links.items():
            text = text.replace(LINK_PLACEHOLDER.format(name), url)
            html = html.replace(LINK_PLACEHOLDER.format(name), escape(url))
        return text, html

    def as_bytes(self, recipient: Recipient) -> bytes:
        """Return the whole MIME message for one recipient, ready for SMTP DATA."""
        text, html = self.personalise(recipient)
        own = recipient.attachments
        attachments = self.shared_parts if own is None else self.encode(own)
        mixed, alternative = f"mixed-{self.boundary}", f"alt-{self.boundary}"
        subject = f"Subject: {header(recipient.subject)}\r\n" if recipient.subject else self.subject_header
        head = (
            f"From: {self.from_header}\r\nTo: {header(recipient.address)}\r\n{subject}{self.head}"
            f"Date: {formatdate()}\r\nMessage-ID: <{header(recipient.message_id)}>\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/mixed; boundary="{mixed}"\r\n\r\n'
            f'--{mixed}\r\nContent-Type: multipart/alternative; boundary="{alternative}"\r\n\r\n'
        )
        encoding = "Content-Transfer-Encoding: base64\r\n\r\n"
        parts = [head.encode(), f'--{alternative}\r\nContent-Type: text/plain; charset="utf-8"\r\n{encoding}'.encode(),
                 _b64_lines(text.encode())]  # fmt: skip
        if html:
            parts += [f'--{alternative}\r\nContent-Type: text/html; charset="utf-8"\r\n{encoding}'.encode(),
                      _b64_lines(html.encode())]  # fmt: skip
        parts.append(f"--{alternative}--\r\n\r\n".encode())
        if attachments:
            parts += [f"--{mixed}\r\n".encode(), attachments]
        parts.append(f"--{mixed}--\r\n".encode())
        return b"".join(parts)

    def as_email(self, recipient: Recipient) -> EmailMultiAlternatives:
        """Return the message for one recipient as a Django email (the outbox and the provider APIs)."""
        text, html = self.personalise(recipient)
        headers = {"Message-ID": f"<{recipient.message_id}>", **self.headers}
        message = EmailMultiAlternatives(recipient.subject or self.subject, text, settings.DEFAULT_FROM_EMAIL, [recipient.address],
                                         headers=headers)  # fmt: skip
        if html:
            message.attach_alternative(html, "text/html")
        for name, content, mimetype in self.attachments if recipient.attachments is None else recipient.attachments:
            message.attach(name, content, mimetype)
        return message


def message_id(delivery_id: int | str, dispatch_id: int) -> str:
    """Return the Message-ID of a delivery (without angle brackets): the same on every retry."""
    return f"congvan.{dispatch_id}.{delivery_id}@{sender_domain(settings.DEFAULT_FROM_EMAIL)}"


@functools.cache
def sender_domain(from_email: str) -> str:
    """Return the domain of the sender's address (parsed once: it is asked for every message)."""
    return parseaddr(from_email)[1].rpartition("@")[2] or "localhost"


def recipient_of(delivery: Delivery, copy: DispatchCopy | None = None, letter: Letter | None = None) -> Recipient:
    """Return the per-recipient context of a delivery: its address, Message-ID, name and acknowledgement link.

    A delivery of a personalised dispatch carries its organisation's `copy` (and the `letter`'s appendices), with
    the copy's own subject: never the shared dispatch PDF nor another organisation's copy.
    """
    recipient = Recipient(
        address=delivery.address,
        message_id=message_id(delivery.pk, delivery.dispatch_id),
        organization_name=delivery.organization_name,
        # A reminder's link acknowledges the dispatch email it reminds of.
        links={"acknowledge": acknowledgement.url(delivery.reminds_id or delivery.pk)},
        return_path=returnpath.address_for(delivery.pk) if returnpath.is_enabled() else "",
    )
    if copy is not None:
        appendices = letter.attachments[1:] if letter is not None else []  # the shared PDF comes first
        recipient.attachments = [(copy.attachment_name(), copy.read(), "application/pdf"), *appendices]
        recipient.subject = subject_of(copy.dispatch, delivery.kind, copy.subject)
    return recipient


def agency_in_sentence(dispatch: Dispatch) -> str:
    """Return the issuer's name as written inside a sentence: "Bảo hiểm xã hội thành phố Hà Nội"."""
    name, place = dispatch.issuer.name.lower(), dispatch.issuer.place
    name = name.replace(place.lower(), place) if place else name
    return name[:1].upper() + name[1:]


def subject_of(dispatch: Dispatch, kind: str, about: str = "") -> str:
    """Return the email subject: urgency first ("[HỎA TỐC] [Số 05/BHXH-QLT] V/v ..."), TEST, THU HỒI or Nhắc lại marked.

    `about` replaces the dispatch's "V/v" (a copy of a personalised dispatch has its own).
    """
    about = about or dispatch.subject
    if kind == DeliveryKind.RECALL:
        return f"[THU HỒI] Số {dispatch.notation} V/v {about}"
    urgency = f"[{dispatch.get_urgency_display()}] " if dispatch.urgency else ""
    subject = f"{urgency}{dispatch.email_subject(about)}"
    if kind == DeliveryKind.REMINDER:
        return f"Nhắc lại: {subject}"
    return f"[TEST] {subject}" if kind == DeliveryKind.TEST_COPY else subject


def dispatch_attachments(dispatch: Dispatch) -> list[Attachment]:
    """Return what a dispatch email carries: the dispatch PDF, then its appendices in order."""
    with dispatch.pdf.open("rb") as stored:
        pdf = stored.read()
    name = f"{dispatch.number_display}-{dispatch.issuer.abbreviation}-{dispatch.drafting_unit.abbreviation}.pdf"
    appendices = [(file_name, data, "application/pdf") for file_name, data in dispatch.appendix_attachments()]
    return [(name, pdf, "application/pdf"), *appendices]


def build(dispatch: Dispatch, kind: str, attachments: list[Attachment]) -> Letter:
    """Render the letter of one kind for a dispatch once, with placeholders where each recipient differs."""
    context: dict[str, Any] = {
        "dispatch": dispatch,
        "agency": agency_in_sentence(dispatch),
        "subject": subject_of(dispatch, kind),
        "delivery": SimpleNamespace(organization_name=ORG_PLACEHOLDER),
        "acknowledge_url": LINK_PLACEHOLDER.format("acknowledge"),
        "verification_url": dispatch.verification_url(),
        "is_test": kind == DeliveryKind.TEST_COPY,
    }
    text_template, html_template = TEMPLATES[kind]
    urgent = dispatch.urgency in (Urgency.EXPRESS, Urgency.VERY_URGENT, Urgency.URGENT)
    return Letter(
        subject=context["subject"],
        text=render_to_string(text_template, context),
        html=render_to_string(html_template, context) if html_template else "",
        attachments=attachments,
        headers={**(URGENT_HEADERS if urgent and kind != DeliveryKind.RECALL else {}), **reply_to_header(dispatch)},
    )


def reply_to_header(dispatch: Dispatch) -> dict[str, str]:
    """Return the Reply-To header: the drafting unit's mailbox, else DEFAULT_REPLY_TO, never the sending address."""
    address = dispatch.drafting_unit.reply_to or settings.DEFAULT_REPLY_TO
    if not address or parseaddr(address)[1].lower() == parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower():
        return {}
    return {"Reply-To": address}


def letter_for(dispatch: Dispatch, kind: str) -> Letter:
    """Return the dispatch's letter of one kind, built at most once per worker (a small LRU cache)."""
    key = (dispatch.pk, kind, dispatch.pdf_sha256, dispatch.updated_at)  # a changed dispatch gets a new letter
    with _lock:  # thread-pool workers share the cache
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    attachments = [] if kind in WITHOUT_ATTACHMENTS else dispatch_attachments(dispatch)
    letter = build(dispatch, kind, attachments)
    with _lock:
        _cache[key] = letter
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return letter
