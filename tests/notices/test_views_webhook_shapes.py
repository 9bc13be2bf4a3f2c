"""Every provider's webhook endpoint: a body of the wrong shape, signed as the provider would sign it, is answered
400 with what is wrong (never 500, never silently accepted); a real event of each provider still goes through."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.cache import cache

from notices import tracking
from notices.models import Delivery, DeliveryStatus
from recipients.models import Suppression

POSTAL_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SECRETS = {
    "WEBHOOK_SECRET": "hook:secret", "MAILERSEND_SIGNING_SECRET": "ms-signing", "MAILERSEND_INBOUND_SECRET": "ms-in",
    "MAILTRAP_WEBHOOK_SIGNING_KEY": "mt-signing", "MANDRILL_WEBHOOK_KEY": "md-key", "UNISENDER_GO_API_KEY": "ug-key",
    "MAILGUN_WEBHOOK_SIGNING_KEY": "mg-key", "POSTAL_API_KEY": "postal-api", "BREVO_API_KEY": "brevo", "MAILTRAP_API_TOKEN": "mt", "RESEND_API_KEY": "re",
    "POSTAL_WEBHOOK_KEY": "".join(POSTAL_KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
                                  .decode().splitlines()[1:-1]),
}  # fmt: skip


def provider_headers(url: str, body: bytes) -> dict:
    """Return the headers the provider at `url` would sign `body` with (basic auth for all)."""
    headers = {"Authorization": "Basic " + base64.b64encode(b"hook:secret").decode()}
    if url.startswith("/anymail/mailersend/"):
        secret = SECRETS["MAILERSEND_INBOUND_SECRET" if "inbound" in url else "MAILERSEND_SIGNING_SECRET"]
        headers["Signature"] = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    elif url.startswith("/anymail/mailtrap/"):
        headers["Mailtrap-Signature"] = hmac.new(b"mt-signing", body, hashlib.sha256).hexdigest()
    elif url.startswith("/anymail/postal/"):
        signed = POSTAL_KEY.sign(body, padding.PKCS1v15(), hashes.SHA1())
        headers["X-Postal-Signature"] = base64.b64encode(signed).decode()
    elif url.startswith("/anymail/mailgun/"):
        return {"Authorization": headers["Authorization"]}  # its signature is in the body (tested above)
    return headers


def mandrill_headers(url: str, events: str) -> dict:
    """Mandrill signs the URL followed by the sorted form fields (HMAC-SHA1, base64)."""
    signed = f"http://testserver{url}mandrill_events{events}".encode()
    digest = base64.b64encode(hmac.new(b"md-key", signed, hashlib.sha1).digest()).decode()
    return {"Authorization": "Basic " + base64.b64encode(b"hook:secret").decode(), "X-Mandrill-Signature": digest}


PROVIDER_URLS = [
    f"/anymail/{path}"
    for path in ("amazon_ses/tracking/", "amazon_ses/inbound/", "brevo/tracking/", "brevo/inbound/",
                 "mailersend/tracking/", "mailersend/inbound/", "mailgun/tracking/", "mailgun/inbound/",
                 "mailjet/tracking/", "mailjet/inbound/", "mailtrap/tracking/", "mailtrap/inbound/", "postal/tracking/",
                 "postal/inbound/", "postmark/tracking/", "postmark/inbound/", "resend/tracking/", "resend/inbound/",
                 "sendgrid/tracking/", "sendinblue/tracking/", "sparkpost/tracking/", "sparkpost/inbound/",
                 "unisender_go/tracking/")
]  # fmt: skip
WRONG_SHAPES = [b"[]", b'[{"event": "bounce"}]', b'"text"', b"42", b"null", b"{}", b'{"event": []}', b"not json"]


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, **SECRETS}


@pytest.mark.django_db
@pytest.mark.parametrize("url", PROVIDER_URLS)
@pytest.mark.parametrize("body", WRONG_SHAPES)
def test_each_provider_answers_a_body_of_the_wrong_shape_with_400(client, url, body):
    response = client.post(url, data=body, content_type="application/json", headers=provider_headers(url, body))
    assert response.status_code == 400, response.content


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/anymail/mandrill/", "/anymail/mandrill/tracking/"])
@pytest.mark.parametrize("events", [body.decode() for body in WRONG_SHAPES] + [""])
def test_mandrill_answers_events_of_the_wrong_shape_with_400(client, url, events):
    response = client.post(url, data={"mandrill_events": events}, headers=mandrill_headers(url, events))
    assert response.status_code == 400, response.content


def test_the_refusal_says_where_the_body_differs(client):
    body = json.dumps({"events": [{"event": "delivery", "timestamp": 1}]}).encode()
    url = "/anymail/mailtrap/tracking/"
    response = client.post(url, data=body, content_type="application/json", headers=provider_headers(url, body))
    assert response.status_code == 400
    assert "$.events[0]" in response.content.decode() and "message_id" in response.content.decode()


ID = "msg-0001"
ADDRESS = "office000@bhxh-hanoi.example.vn"
DELIVERED = {  # url: one real "delivered" event of the provider, for the message ID
    "/anymail/postmark/tracking/": {"RecordType": "Delivery", "MessageID": ID, "Recipient": ADDRESS,
                                    "DeliveredAt": "2026-12-03T08:00:00Z", "Details": "250 OK", "MessageStream": "outbound"},
    "/anymail/brevo/tracking/": {"event": "delivered", "email": ADDRESS, "id": 1, "message-id": ID, "ts_epoch": 1764748800000},
    "/anymail/mailjet/tracking/": [{"event": "sent", "time": 1764748800, "MessageID": ID, "email": ADDRESS,
                                    "smtp_reply": "250 OK"}],
    "/anymail/sendgrid/tracking/": [{"event": "delivered", "email": ADDRESS, "timestamp": 1764748800,
                                     "sg_event_id": "sg-1", "anymail_id": ID}],
    "/anymail/sparkpost/tracking/": [{"msys": {"message_event": {"type": "delivery", "transmission_id": ID,
                                               "event_id": "sp-1", "timestamp": "1764748800", "raw_rcpt_to": ADDRESS}}}],
    "/anymail/mailersend/tracking/": {"type": "activity.delivered", "data": {"id": "ms-1", "type": "delivered",
        "created_at": "2026-12-03T08:00:00.000000Z", "email": {"message": {"id": ID}, "recipient": {"email": ADDRESS}}}},
    "/anymail/mailtrap/tracking/": {"events": [{"event": "delivery", "message_id": ID, "event_id": "mt-1",
                                                "timestamp": 1764748800, "email": ADDRESS}]},
    "/anymail/postal/tracking/": {"event": "MessageSent", "uuid": "po-1", "timestamp": 1764748800.0,
                                  "payload": {"status": "Sent", "details": "250 OK", "message": {"id": ID, "to": ADDRESS}}},
    "/anymail/resend/tracking/": {"type": "email.delivered", "created_at": "2026-12-03T08:00:00.000Z",
                                  "data": {"email_id": ID, "to": [ADDRESS]}},
}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("url", DELIVERED)
def test_a_real_event_of_each_provider_is_still_applied(client, issue_to, url):
    delivery = issue_to(1).deliveries.get()
    Delivery.objects.claim([delivery.pk])
    Delivery.objects.record_sent([(delivery.pk, ID, delivery.created_at)])
    body = json.dumps(DELIVERED[url]).encode()
    response = client.post(url, data=body, content_type="application/json", headers=provider_headers(url, body))
    assert response.status_code == 200, response.content
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED


# --- Resend signs through Svix: svix-id, svix-timestamp and the body (needs the svix package) ------------------
RESEND_SECRET = "whsec_" + base64.b64encode(b"resend-signing-secret-for-tests!").decode()


def resend_call(client, body: bytes, msg_id: str, at: float | None = None, signature: str | None = None):
    svix = pytest.importorskip("svix.webhooks")
    stamp = datetime.fromtimestamp(at if at is not None else time.time(), tz=UTC)
    signed = signature or svix.Webhook(RESEND_SECRET).sign(msg_id, stamp, body.decode())
    headers = {**provider_headers("/anymail/resend/", body), "svix-id": msg_id, "svix-signature": signed,
               "svix-timestamp": str(int(stamp.timestamp()))}  # fmt: skip
    return client.post("/anymail/resend/tracking/", data=body, content_type="application/json", headers=headers)


@pytest.fixture
def unclaimed_svix_ids():
    """Forget the fixed svix ids signed below: a run in the last 2 x WEBHOOK_MAX_AGE_SECONDS left them claimed."""
    keys = [tracking.token_key("resend", msg_id) for msg_id in ("msg_stale", "msg_bad", "msg_1")]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


@pytest.mark.django_db
def test_a_signed_resend_event_is_accepted_once_and_only_while_fresh(client, settings, issue_to, unclaimed_svix_ids):
    settings.ANYMAIL = {**settings.ANYMAIL, "RESEND_SIGNING_SECRET": RESEND_SECRET}
    delivery = issue_to(1).deliveries.get()
    Delivery.objects.claim([delivery.pk])
    Delivery.objects.record_sent([(delivery.pk, ID, delivery.created_at)])
    bounced = {**DELIVERED["/anymail/resend/tracking/"], "type": "email.bounced",
               "data": {"email_id": ID, "to": [ADDRESS], "bounce": {"message": "550 no mailbox"}}}  # fmt: skip
    delivered = json.dumps(DELIVERED["/anymail/resend/tracking/"]).encode()
    assert resend_call(client, json.dumps(bounced).encode(), "msg_stale", at=time.time() - 600).status_code == 400
    assert resend_call(client, json.dumps(bounced).encode(), "msg_bad", signature="v1,AAAA").status_code == 400
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and not Suppression.objects.exists()
    assert resend_call(client, delivered, "msg_1").status_code == 200
    assert resend_call(client, delivered, "msg_1").status_code == 400  # the same call again
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
