"""Provider webhooks: Mailgun calls signed with the configured key, accepted once and only while fresh;
malformed bodies answered 400. Real signed bodies go through anymail's real views, as anymail's own tests do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from notices import tracking
from notices.models import Delivery, DeliveryStatus
from recipients.models import Suppression

URL = "/anymail/mailgun/tracking/"
SIGNING_KEY = "key-mailgun-webhook-signing-for-tests"
MESSAGE_ID = "20260305081502.1.ABCDEF@mg.bhxh.example.vn"


@pytest.fixture(autouse=True)
def mailgun(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}


@pytest.fixture
def sent(issue_to) -> Delivery:
    dispatch = issue_to(1)
    delivery = dispatch.deliveries.get()
    Delivery.objects.claim([delivery.pk])
    Delivery.objects.record_sent([(delivery.pk, f"<{MESSAGE_ID}>", delivery.created_at)])
    return Delivery.objects.get(pk=delivery.pk)


def signature(timestamp: float | None = None, token: str | None = None) -> dict:
    timestamp = str(int(timestamp if timestamp is not None else time.time()))
    token = token or secrets.token_hex(25)
    digest = hmac.new(SIGNING_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": digest}


def event(kind: str, **extra) -> dict:
    return {
        "event": kind, "id": secrets.token_hex(8), "timestamp": time.time(),
        "recipient": "office000@bhxh-hanoi.example.vn", "message": {"headers": {"message-id": MESSAGE_ID}},
        "delivery-status": {"code": 550, "message": "5.1.1 mailbox does not exist", "description": ""}, **extra,
    }  # fmt: skip


def post(client, body):
    return client.post(URL, data=json.dumps(body), content_type="application/json")


@pytest.mark.django_db
def test_a_fresh_signed_event_is_applied(client, sent):
    assert post(client, {"signature": signature(), "event-data": event("delivered")}).status_code == 200
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.DELIVERED


@pytest.mark.django_db
def test_a_replayed_signature_is_refused_even_on_another_event(client, sent):
    captured = signature()
    assert post(client, {"signature": captured, "event-data": event("delivered")}).status_code == 200
    forged = {"signature": captured, "event-data": event("failed", severity="permanent", reason="bounce")}
    assert post(client, forged).status_code == 400
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.DELIVERED
    assert not Suppression.objects.filter(address=sent.address).exists()


@pytest.mark.django_db
def test_a_stale_signature_is_refused(client, sent):
    old = signature(timestamp=time.time() - 301)
    assert post(client, {"signature": old, "event-data": event("failed", severity="permanent")}).status_code == 400
    future = signature(timestamp=time.time() + 3600)
    assert post(client, {"signature": future, "event-data": event("failed", severity="permanent")}).status_code == 400
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.SENT and not Suppression.objects.exists()


@pytest.mark.django_db
def test_a_wrong_signature_is_refused(client, sent):
    bad = {**signature(), "signature": "0" * 64}
    assert post(client, {"signature": bad, "event-data": event("delivered")}).status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [[{"signature": "x"}], [], "just a string", {"signature": ["not", "a", "dict"]}, {"signature": None}],
)
def test_a_body_of_the_wrong_shape_is_a_bad_request(client, body):
    assert post(client, body).status_code == 400


@pytest.mark.django_db
def test_a_used_token_is_kept_longer_than_a_signature_stays_fresh(client, sent, settings):
    settings.WEBHOOK_MAX_AGE_SECONDS = 1
    captured = signature()
    assert post(client, {"signature": captured, "event-data": event("delivered")}).status_code == 200
    time.sleep(1.2)  # the signature is stale now; its token must still be remembered
    assert cache.get(tracking.token_key("Mailgun", captured["token"])) == 1


# --- SendGrid's signed event webhook: ECDSA over the timestamp header and the body ----------------------------
SENDGRID_URL = "/anymail/sendgrid/tracking/"
SENDGRID_KEY = ec.generate_private_key(ec.SECP256R1())
SECP256R1_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@pytest.fixture
def sendgrid(settings):
    """Configure the public key SendGrid's settings page shows (base64 DER, without the PEM lines)."""
    der = SENDGRID_KEY.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    key = base64.b64encode(der).decode()
    settings.ANYMAIL = {**settings.ANYMAIL, "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": key}


def sendgrid_headers(body: bytes, timestamp: float | None = None) -> dict:
    """Return the headers SendGrid sends with `body`: ECDSA-SHA256 over the timestamp followed by the body."""
    stamp = str(int(timestamp if timestamp is not None else time.time()))
    signature = SENDGRID_KEY.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
    }


def sendgrid_post(client, body: bytes, timestamp: float | None = None, signed: bytes | None = None, headers=None):
    headers = headers or sendgrid_headers(signed if signed is not None else body, timestamp)
    return client.post(SENDGRID_URL, data=body, content_type="application/json", headers=headers)


def malleated(headers: dict) -> dict:
    """Return the headers with the signature's other valid form (r, n - s): ECDSA signatures are malleable."""
    r, s = decode_dss_signature(base64.b64decode(headers["X-Twilio-Email-Event-Webhook-Signature"]))
    other = encode_dss_signature(r, SECP256R1_ORDER - s)
    return {**headers, "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(other).decode()}


def sendgrid_events(kind: str) -> bytes:
    event = {"email": "office000@bhxh-hanoi.example.vn", "timestamp": int(time.time()), "event": kind,
             "sg_event_id": secrets.token_hex(8), "anymail_id": f"<{MESSAGE_ID}>", "reason": "550 5.1.1 no mailbox"}  # fmt: skip
    return json.dumps([event]).encode()


@pytest.mark.django_db
def test_a_fresh_signed_sendgrid_event_is_applied_once(client, sent, sendgrid):
    body = sendgrid_events("delivered")
    captured = sendgrid_headers(body)
    assert sendgrid_post(client, body, headers=captured).status_code == 200
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.DELIVERED
    # The same captured call sent again, as it was or with the signature's other valid form: refused.
    assert sendgrid_post(client, body, headers=captured).status_code == 400
    assert sendgrid_post(client, body, headers=malleated(captured)).status_code == 400
    # A new call (SendGrid signs each call afresh) is accepted.
    assert sendgrid_post(client, sendgrid_events("open")).status_code == 200


@pytest.mark.django_db
def test_a_stale_or_future_sendgrid_signature_is_refused(client, sent, sendgrid):
    for stamp in (time.time() - 301, time.time() + 3600):
        assert sendgrid_post(client, sendgrid_events("bounce"), stamp).status_code == 400
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.SENT
    assert not Suppression.objects.filter(address=sent.address).exists()


@pytest.mark.django_db
def test_a_sendgrid_signature_over_another_body_is_refused(client, sent, sendgrid):
    response = sendgrid_post(client, sendgrid_events("bounce"), signed=sendgrid_events("delivered"))
    assert response.status_code == 400
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.SENT


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"{}", b'{"event": "bounce"}', b"[1, 2]", b"[{}]", b"not json", b'"text"'])
def test_a_signed_sendgrid_body_of_the_wrong_shape_is_a_bad_request(client, sent, sendgrid, body):
    assert sendgrid_post(client, body).status_code == 400


@pytest.mark.django_db
def test_a_multipart_inbound_post_is_not_read_whole_by_the_shape_check(client, settings):
    """Only JSON bodies are checked for shape: a multipart post stays streamed (its file is over the body limit)."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    attachment = SimpleUploadedFile("phu-luc.txt", b"x" * 5000, content_type="text/plain")
    mime = "From: office000@bhxh-hanoi.example.vn\r\nTo: congvan@bhxh.example.vn\r\nSubject: Re\r\n\r\nDa nhan"
    form = {**signature(), "body-mime": mime, "attachment-1": attachment}
    assert client.post("/anymail/mailgun/inbound/", data=form).status_code == 200
