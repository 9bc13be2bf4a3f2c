"""The seam to the outside world: one `Transport` per way of delivering mail, chosen by settings.EMAIL_DELIVERY.

Every transport sends one `notices.mail.Letter` to one `Recipient` over a connection kept for a whole batch,
and tells failures apart by exception type: `TransportError(permanent=...)`, and `Throttled` when the provider
asks us to slow down (SMTP 421, HTTP 429). `smtp` speaks SMTP itself and sends the bytes the builder
assembled; `outbox` writes .eml files; every anymail provider goes through its anymail backend.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from typing import ClassVar

from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.utils.module_loading import import_string

from notices.dkim_signing import DkimKeyError, configured_signer
from notices.mail import Letter, Recipient
from notices.outbox import EmailBackend as OutboxBackend

ANYMAIL_PROVIDERS = (
    "amazon_ses", "brevo", "mailersend", "mailgun", "mailjet", "mailtrap", "mandrill", "postal", "postmark",
    "resend", "scaleway", "sendgrid", "sparkpost", "unisender_go",
)  # fmt: skip


class TransportError(Exception):
    """Sending one message failed; `permanent` says whether trying again could help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Throttled(TransportError):
    """The provider asked us to slow down (SMTP 421, HTTP 429): slow the bucket, do not fail anyone."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=False)


class Transport:
    """One way of delivering mail; a context manager that closes its connection after the batch."""

    name: ClassVar[str] = ""

    def send(self, letter: Letter, recipient: Recipient) -> str:
        """Send one message; return the provider's message id or raise a TransportError."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the connection, if any."""

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


REGISTRY: dict[str, type[Transport]] = {}


def register(cls: type[Transport]) -> type[Transport]:
    """Add a transport class to the registry under its name."""
    REGISTRY[cls.name] = cls
    return cls


def smtp_error(code: int, reason: bytes | str) -> TransportError:
    """Return the classified error for an SMTP reply code: 421 throttles, 5xx is permanent, 4xx transient."""
    text = reason.decode(errors="replace") if isinstance(reason, bytes) else reason
    message = f"{code} {text}"
    return Throttled(message) if code == 421 else TransportError(message, permanent=500 <= code < 600)


@register
class SmtpTransport(Transport):
    """One SMTP connection, opened on first use and reopened after the server drops it.

    Each message is DKIM-signed when DKIM_* is configured, and leaves with its delivery's own return path as the
    envelope sender when BOUNCE_ADDRESS is set (so its bounce finds its way back: notices.bounces).
    """

    name = "smtp"

    def __init__(self) -> None:
        self.connection: smtplib.SMTP | None = None

    def open(self) -> smtplib.SMTP:
        """Connect (TLS and login as configured) unless already connected."""
        if self.connection is None:
            factory = smtplib.SMTP_SSL if settings.EMAIL_USE_SSL else smtplib.SMTP
            connection = factory(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=settings.EMAIL_TIMEOUT)
            if settings.EMAIL_USE_TLS:
                connection.starttls(context=ssl.create_default_context())
            if settings.EMAIL_HOST_USER:
                connection.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
            self.connection = connection
        return self.connection

    def close(self) -> None:
        """Say QUIT if the server still listens, and forget the connection."""
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
            self.connection = None

    def send(self, letter: Letter, recipient: Recipient) -> str:
        data = signed(letter.as_bytes(recipient))
        try:
            self.open().sendmail(recipient.return_path or letter.envelope_from, [recipient.address], data)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()))
            self.drop_if(code == 421)
            raise smtp_error(code, reason) from exc
        except smtplib.SMTPResponseException as exc:
            self.drop_if(exc.smtp_code == 421)
            raise smtp_error(exc.smtp_code, exc.smtp_error) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.drop_if(True)
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        return recipient.message_id

    def drop_if(self, condition: bool) -> None:
        """Drop the connection (the server closed it or will), so the next message reconnects."""
        if condition:
            self.close()


def signed(message: bytes) -> bytes:
    """Return the message with its DKIM signature in front (unchanged when DKIM is not configured).

    An unreadable key is our configuration's fault, not the recipient's: a transient error, retried.
    """
    try:
        signer = configured_signer()
    except DkimKeyError as exc:
        raise TransportError(str(exc)) from exc
    return message if signer is None else signer.signature(message) + message


class BackendTransport(Transport):
    """A Django email backend kept open for the batch; subclasses name the backend."""

    backend = ""

    def __init__(self) -> None:
        self.connection = import_string(self.backend)(fail_silently=False)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.close()

    def send(self, letter: Letter, recipient: Recipient) -> str:
        message = letter.as_email(recipient)
        message.connection = self.connection
        try:
            message.send()
        except AnymailRecipientsRefused as exc:
            raise TransportError(f"refused by the provider: {exc}", permanent=True) from exc
        except AnymailAPIError as exc:
            raise provider_error(exc) from exc
        except AnymailError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}", permanent=True) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        status = getattr(message, "anymail_status", None)
        return (status.message_id if status and status.message_id else None) or recipient.message_id


@register
class OutboxTransport(BackendTransport):
    """Write each message as an .eml file in OUTBOX_DIR (the default, for trying the system)."""

    name = "outbox"
    backend = f"{OutboxBackend.__module__}.{OutboxBackend.__name__}"


def provider_error(exc: AnymailAPIError) -> TransportError:
    """Classify a provider API error: 429 throttles, 5xx and no answer are transient, other 4xx permanent."""
    code = getattr(exc, "status_code", None)
    if code == 429:
        return Throttled(f"429 {exc}")
    return TransportError(f"{code or 'no answer'} {exc}", permanent=code is not None and 400 <= code < 500)


for _provider in ANYMAIL_PROVIDERS:
    register(type(f"{_provider.title().replace('_', '')}Transport", (BackendTransport,),
                  {"name": _provider, "backend": f"anymail.backends.{_provider}.EmailBackend",
                   "__doc__": f"The {_provider} API, through anymail."}))  # fmt: skip


def transport_name() -> str:
    """Return the configured transport's name: also the key of its shared rate limit."""
    return settings.EMAIL_DELIVERY


def open_transport() -> Transport:
    """Return a new transport of the configured kind (use it as a context manager for one batch)."""
    try:
        return REGISTRY[transport_name()]()
    except KeyError:
        raise TransportError(f"Unknown EMAIL_DELIVERY {transport_name()!r}", permanent=False) from None
