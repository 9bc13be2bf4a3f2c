"""Provider webhooks: Mailgun calls signed with the configured key, accepted once and only while fresh;
malformed bodies answered 400. Real signed bodies go through anymail's real views, as anymail's own tests do."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

import pytest
from django.core.cache import cache

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
