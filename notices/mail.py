"""The email of a dispatch: shared parts built once per dispatch per worker, personalised per recipient.

Rendering the templates and base64-encoding the PDF for each of 100,000 recipients would cost more than
sending; so the templates are rendered once with placeholders, the PDF part is encoded once, and each
recipient's message is assembled from those pieces (bytes for SMTP, an EmailMessage for other backends).
"""

from __future__ import annotations

import base64
import hashlib
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from email.header import Header
from email.utils import formatdate, parseaddr
from types import SimpleNamespace

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.html import escape

from notices.models import Dispatch

ORG_PLACEHOLDER = "@@CONGVAN-ORGANIZATION@@"
ACK_PLACEHOLDER = "@@CONGVAN-ACKNOWLEDGE@@"
CACHE_SIZE = 4
_cache: OrderedDict[tuple[int, str], DispatchMail] = OrderedDict()
_lock = threading.Lock()


def message_id(delivery_id: int, dispatch_id: int) -> str:
    """Return the Message-ID of a delivery (without angle brackets): the same on every retry."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"congvan.{dispatch_id}.{delivery_id}@{domain}"


def _b64_lines(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _header(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode(maxlinelen=998)


@dataclass
class DispatchMail:
    """What every recipient's message of one dispatch shares."""

    dispatch_id: int
    subject: str
    from_header: str
    envelope_from: str
    text: str
    html: str
    attachments: list[tuple[str, bytes]]  # the dispatch PDF first, then its appendices in order
    subject_header: str = ""
    boundary: str = ""
    attachment_parts: bytes = b""

    def __post_init__(self) -> None:
        self.subject_header = _header(self.subject)
        self.boundary = uuid.uuid4().hex  # base64 parts never contain "-", so one boundary serves every message
        separator = f"--mixed-{self.boundary}\r\n".encode()
        self.attachment_parts = separator.join(_pdf_part(name, data) for name, data in self.attachments)

    def personalise(self, organization_name: str, ack_url: str) -> tuple[str, str]:
        """Return the text and HTML bodies for one recipient."""
        text = self.text.replace(ORG_PLACEHOLDER, organization_name).replace(ACK_PLACEHOLDER, ack_url)
        html = self.html.replace(ORG_PLACEHOLDER, escape(organization_name)).replace(ACK_PLACEHOLDER, escape(ack_url))
        return text, html

    def as_bytes(self, to: str, msg_id: str, organization_name: str, ack_url: str, subject: str = "") -> bytes:
        """Return the whole MIME message for one address, ready for SMTP DATA."""
        text, html = self.personalise(organization_name, ack_url)
        mixed, alternative = f"mixed-{self.boundary}", f"alt-{self.boundary}"
        subject_header = _header(subject) if subject else self.subject_header
        head = (
            f"From: {self.from_header}\r\nTo: {to}\r\nSubject: {subject_header}\r\n"
            f"Date: {formatdate()}\r\nMessage-ID: <{msg_id}>\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/mixed; boundary="{mixed}"\r\n\r\n'
            f'--{mixed}\r\nContent-Type: multipart/alternative; boundary="{alternative}"\r\n\r\n'
        ).encode()
        text_part = f'--{alternative}\r\nContent-Type: text/plain; charset="utf-8"\r\n'
        html_part = f'--{alternative}\r\nContent-Type: text/html; charset="utf-8"\r\n'
        encoding = b"Content-Transfer-Encoding: base64\r\n\r\n"
        return b"".join(
            [
                head,
                text_part.encode(), encoding, _b64_lines(text.encode()),
                html_part.encode(), encoding, _b64_lines(html.encode()),
                f"--{alternative}--\r\n\r\n--{mixed}\r\n".encode(), self.attachment_parts,
                f"--{mixed}--\r\n".encode(),
            ]
        )  # fmt: skip

    def as_email(
        self, to: str, msg_id: str, organization_name: str, ack_url: str, subject: str = ""
    ) -> EmailMultiAlternatives:
        """Return the message for one address as a Django email (for the outbox and provider backends)."""
        text, html = self.personalise(organization_name, ack_url)
        message = EmailMultiAlternatives(
            subject=subject or self.subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[to],
            headers={"Message-ID": f"<{msg_id}>"},
        )
        message.attach_alternative(html, "text/html")
        for name, data in self.attachments:
            message.attach(name, data, "application/pdf")
        return message


def attachment_name(dispatch: Dispatch) -> str:
    """Return the PDF's file name, e.g. "05-BHXH-QLT.pdf"."""
    return f"{dispatch.number_display}-{dispatch.issuer.abbreviation}-{dispatch.drafting_unit.abbreviation}.pdf"


def _pdf_part(filename: str, pdf: bytes) -> bytes:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return (
        f'Content-Type: application/pdf; name="{ascii_name}"\r\n'
        f'Content-Disposition: attachment; filename="{ascii_name}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + _b64_lines(pdf)


def build(dispatch: Dispatch) -> DispatchMail:
    """Render the dispatch's email once, with placeholders where each recipient differs."""
    context = {
        "dispatch": dispatch,
        "delivery": SimpleNamespace(organization_name=ORG_PLACEHOLDER),
        "acknowledge_url": ACK_PLACEHOLDER,
        "verification_url": dispatch.verification_url(),
    }
    with dispatch.pdf.open("rb") as stored:
        attachments = [(attachment_name(dispatch), stored.read()), *dispatch.appendix_attachments()]
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    from_header = f"{_header(name)} <{address}>" if name else address
    return DispatchMail(
        dispatch_id=dispatch.pk,
        subject=dispatch.email_subject(),
        from_header=from_header,
        envelope_from=address,
        text=render_to_string("notices/email/dispatch.txt", context),
        html=render_to_string("notices/email/dispatch.html", context),
        attachments=attachments,
    )


def for_dispatch(dispatch_id: int) -> DispatchMail:
    """Return the dispatch's shared email parts, built at most once per worker (a small LRU cache)."""
    dispatch = Dispatch.objects.select_related("issuer", "drafting_unit").get(pk=dispatch_id)
    key = (dispatch_id, dispatch.pdf_sha256 or hashlib.sha256(dispatch.pdf.name.encode()).hexdigest())
    with _lock:  # thread-pool workers share the cache
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    mail = build(dispatch)
    with _lock:
        _cache[key] = mail
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return mail
