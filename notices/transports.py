"""The seam to the outside world: one connection per batch, and failures classified by exception type.

`SmtpTransport` speaks SMTP itself over one reused connection, sending the bytes assembled by
`notices.mail` (no per-recipient MIME building). `BackendTransport` goes through Django's configured
email backend (the outbox, or an anymail provider) and reads the provider's message id from anymail.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl

from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import get_connection

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class SendError(Exception):
    """Sending one delivery failed; `permanent` says whether trying again could help."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Throttled(SendError):
    """The provider asked us to slow down (SMTP 421, HTTP 429): slow the bucket, do not fail anyone."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=False)


def provider_name() -> str:
    """Return the name of the provider whose shared rate limit applies ("smtp", "mailgun", ...)."""
    return "smtp" if settings.EMAIL_BACKEND == SMTP_BACKEND else settings.EMAIL_DELIVERY


def smtp_error(code: int, reason: bytes | str) -> SendError:
    """Return the classified error for an SMTP reply code."""
    text = reason.decode(errors="replace") if isinstance(reason, bytes) else reason
    message = f"{code} {text}"
    if code == 421:
        return Throttled(message)
    return SendError(message, permanent=500 <= code < 600)


class SmtpTransport:
    """One SMTP connection, opened on first use and reopened after the server drops it."""

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

    def send(self, shared, to: str, msg_id: str, organization_name: str, ack_url: str, subject: str = "") -> str:
        """Send one message to one address; return its Message-ID or raise a classified SendError."""
        data = shared.as_bytes(to, msg_id, organization_name, ack_url, subject)
        try:
            self.open().sendmail(shared.envelope_from, [to], data)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reason = next(iter(exc.recipients.values()))
            self.drop_if(code == 421)
            raise smtp_error(code, reason) from exc
        except smtplib.SMTPResponseException as exc:
            self.drop_if(exc.smtp_code == 421)
            raise smtp_error(exc.smtp_code, exc.smtp_error) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.drop_if(True)
            raise SendError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        return msg_id

    def drop_if(self, condition: bool) -> None:
        """Drop the connection (the server closed it or will), so the next message reconnects."""
        if condition:
            self.close()


class BackendTransport:
    """Django's configured email backend: the outbox, or an anymail provider over one HTTP session."""

    def __init__(self) -> None:
        self.connection = get_connection(fail_silently=False)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.connection.close()

    def send(self, shared, to: str, msg_id: str, organization_name: str, ack_url: str, subject: str = "") -> str:
        """Send one message; return the provider's message id or raise a classified SendError."""
        message = shared.as_email(to, msg_id, organization_name, ack_url, subject)
        message.connection = self.connection
        try:
            message.send()
        except AnymailRecipientsRefused as exc:
            raise SendError(f"refused by the provider: {exc}", permanent=True) from exc
        except AnymailAPIError as exc:
            raise provider_error(exc) from exc
        except AnymailError as exc:
            raise SendError(f"{type(exc).__name__}: {exc}", permanent=True) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        status = getattr(message, "anymail_status", None)
        return (status.message_id if status and status.message_id else None) or msg_id


def provider_error(exc: AnymailAPIError) -> SendError:
    """Classify a provider API error: 429 throttles, 5xx and no answer are transient, other 4xx permanent."""
    code = getattr(exc, "status_code", None)
    if code == 429:
        return Throttled(f"429 {exc}")
    return SendError(f"{code or 'no answer'} {exc}", permanent=code is not None and 400 <= code < 500)


@contextlib.contextmanager
def open_transport():
    """Yield the transport for one batch and close its connection afterwards."""
    transport = SmtpTransport() if settings.EMAIL_BACKEND == SMTP_BACKEND else BackendTransport()
    try:
        yield transport
    finally:
        transport.close()
