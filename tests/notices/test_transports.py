"""The transports: a registry keyed by EMAIL_DELIVERY, and provider API errors told apart by their status.

The provider is faked at its HTTP API only: a local HTTP server answers Mailgun's send endpoint with the status
each test chooses; anymail's real Mailgun backend talks to it.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notices import mail, sendloop
from notices.models import Delivery, DeliveryStatus
from notices.ratelimit import TokenBucket
from notices.transports import REGISTRY, SmtpTransport, Throttled, TransportError, open_transport
from tests.smtp_sink import free_port

S = DeliveryStatus


class FakeMailgun(BaseHTTPRequestHandler):
    """Answer every POST with the server's next status (and Mailgun's JSON body on success)."""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        self.server.requests += 1
        body = {"id": f"<mg-{self.server.requests}@mg.example.vn>", "message": "Queued. Thank you."}
        payload = json.dumps(body if status == 200 else {"message": f"status {status}"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def mailgun(settings):
    """A fake Mailgun API on 127.0.0.1; `mailgun.statuses` are the answers to the next requests."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeMailgun)
    server.statuses, server.requests = [], 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EMAIL_DELIVERY = "mailgun"
    settings.ANYMAIL = {"MAILGUN_API_KEY": "test-key", "MAILGUN_API_URL": f"http://127.0.0.1:{server.server_port}/v3",
                        "MAILGUN_SENDER_DOMAIN": "mg.example.vn"}  # fmt: skip
    yield server
    server.shutdown()
    TokenBucket("mailgun").reset()


def send_one(status: int | None = None):
    letter = mail.Letter(subject="V/v thử", text="Nội dung")
    recipient = mail.Recipient(address="office@bhxh-hanoi.example.vn", message_id="congvan.1.1@bhxh.example.vn")
    with open_transport() as transport:
        return transport.send(letter, recipient)


def test_the_registry_holds_the_outbox_smtp_and_every_anymail_provider(settings):
    assert {"outbox", "smtp", "mailgun", "amazon_ses", "postmark", "sendgrid"} <= set(REGISTRY)
    settings.EMAIL_DELIVERY = "smtp"
    assert isinstance(open_transport(), SmtpTransport)
    settings.EMAIL_DELIVERY = "pigeon"
    with pytest.raises(TransportError, match="pigeon"):
        open_transport()


def test_a_provider_that_accepts_returns_its_message_id(mailgun):
    assert send_one() == "<mg-1@mg.example.vn>"


def test_http_400_is_permanent(mailgun):
    mailgun.statuses = [400]
    with pytest.raises(TransportError) as error:
        send_one()
    assert error.value.permanent and not isinstance(error.value, Throttled) and "400" in str(error.value)


@pytest.mark.parametrize("status", [500, 503])
def test_http_5xx_is_transient(mailgun, status):
    mailgun.statuses = [status]
    with pytest.raises(TransportError) as error:
        send_one()
    assert not error.value.permanent and not isinstance(error.value, Throttled) and str(status) in str(error.value)


def test_no_answer_is_transient(mailgun, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_URL": f"http://127.0.0.1:{free_port()}/v3"}
    with pytest.raises(TransportError) as error:
        send_one()
    assert not error.value.permanent and not isinstance(error.value, Throttled) and "no answer" in str(error.value)


def test_http_429_throttles(mailgun):
    mailgun.statuses = [429]
    with pytest.raises(Throttled):
        send_one()


@pytest.mark.django_db
def test_through_the_send_loop_400_fails_429_waits_without_an_attempt_and_200_records_the_providers_id(
    issue_to, mailgun, settings
):
    settings.SEND_THROTTLE_RETRY_SECONDS = 3600  # the throttled one waits in the database
    dispatch = issue_to(3)
    mailgun.statuses = [400, 429, 200]
    assert sendloop.send_batch(list(dispatch.deliveries.order_by("pk").values_list("pk", flat=True))) == 1
    refused, throttled, accepted = dispatch.deliveries.order_by("pk")
    assert refused.status == S.FAILED and "400" in refused.last_error
    assert (throttled.status, throttled.attempts) == (S.DEFERRED, 0)
    assert accepted.status == S.SENT and accepted.provider_message_id == "<mg-3@mg.example.vn>"
    assert Delivery.objects.filter(status=S.SENT).count() == 1
