"""The tracking receiver, fed real Postmark payloads through anymail's real webhook URL."""

from __future__ import annotations

import base64
import json

import pytest

from notices import fanout
from notices.models import Delivery, DeliveryEvent, DeliveryStatus
from recipients.models import CorrectionItem, Suppression

URL = "/anymail/postmark/tracking/"
SECRET = "congvan-hook:s3cret-for-tests"


@pytest.fixture
def webhook_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}


@pytest.fixture
def sent(issue_to) -> Delivery:
    """A delivery the provider accepted with message id "pm-0001"."""
    dispatch = issue_to(1)
    delivery = dispatch.deliveries.get()
    Delivery.every_kind.claim([delivery.pk])
    Delivery.every_kind.record_sent([(delivery.pk, "pm-0001", delivery.created_at)])
    return Delivery.objects.get(pk=delivery.pk)


def post(client, payload: dict, auth: str | None = SECRET):
    headers = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}
    return client.post(URL, data=json.dumps(payload), content_type="application/json", **headers)


def delivery_payload(message_id: str = "pm-0001") -> dict:
    return {
        "RecordType": "Delivery", "ServerID": 23, "MessageStream": "outbound", "MessageID": message_id,
        "Recipient": "office000@bhxh-hanoi.example.vn", "Tag": "", "DeliveredAt": "2026-03-05T08:15:02Z",
        "Details": "Test delivery webhook details", "Metadata": {},
    }  # fmt: skip


def bounce_payload(event_id: int = 4323372036, bounce_type: str = "HardBounce") -> dict:
    return {
        "RecordType": "Bounce", "ID": event_id, "Type": bounce_type, "TypeCode": 1, "Name": "Hard bounce",
        "Tag": "", "MessageID": "pm-0001", "ServerID": 23, "MessageStream": "outbound",
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": "office000@bhxh-hanoi.example.vn", "From": "congvan@bhxh.example.vn",
        "BouncedAt": "2026-03-05T08:16:40Z", "DumpAvailable": True, "Inactive": True, "CanActivate": True,
        "Subject": "[Số 07/BHXH-QLT]", "Metadata": {},
    }  # fmt: skip


def complaint_payload() -> dict:
    return {**bounce_payload(event_id=4323372099), "RecordType": "SpamComplaint", "Type": "SpamComplaint",
            "TypeCode": 512}  # fmt: skip


@pytest.mark.django_db
def test_a_delivery_event_with_the_secret_marks_the_delivery_delivered(client, webhook_secret, sent):
    response = post(client, delivery_payload())
    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.DELIVERED
    assert sent.events.filter(type="delivered").exclude(provider_event_id="").exists()


@pytest.mark.django_db
def test_a_webhook_call_without_the_secret_or_with_a_wrong_one_is_refused(client, webhook_secret, sent):
    assert post(client, delivery_payload(), auth=None).status_code == 400
    assert post(client, delivery_payload(), auth="congvan-hook:guess").status_code == 400
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.SENT


@pytest.mark.django_db
def test_a_hard_bounce_is_applied_once_and_suppresses_the_address(client, webhook_secret, sent):
    assert post(client, bounce_payload()).status_code == 200
    assert post(client, bounce_payload()).status_code == 200  # the provider retries its webhook

    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.BOUNCED and "550 5.1.1" in sent.last_error
    assert DeliveryEvent.objects.filter(delivery=sent, provider_event_id="postmark:4323372036").count() == 1
    assert sent.events.filter(type="bounced").count() == 1
    (suppression,) = Suppression.objects.active()
    assert (suppression.address, suppression.reason) == ("office000@bhxh-hanoi.example.vn", "bounce")


@pytest.mark.django_db
def test_a_hard_bounce_opens_one_correction_item_for_the_directory_stewards(client, webhook_secret, sent):
    post(client, bounce_payload())
    post(client, bounce_payload(event_id=4323372037))  # a second bounce of the same address

    (item,) = CorrectionItem.objects.all()
    assert (item.organization_id, item.address, item.reason) == (sent.organization_id, sent.address, "bounce")
    assert item.status == "open" and "550 5.1.1" in item.detail
    assert item.since.isoformat() == "2026-03-05T08:16:40+00:00"


@pytest.mark.django_db
def test_a_delivery_event_opens_no_correction_item(client, webhook_secret, sent):
    post(client, delivery_payload())

    assert not CorrectionItem.objects.exists()


@pytest.mark.django_db
def test_a_complaint_marks_the_delivery_and_suppresses_the_address(client, webhook_secret, sent):
    post(client, delivery_payload())
    assert post(client, complaint_payload()).status_code == 200
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.COMPLAINED
    assert Suppression.objects.active().get().reason == "complaint"


@pytest.mark.django_db
def test_a_repeated_event_without_a_provider_id_is_applied_once(client, webhook_secret, sent):
    post(client, delivery_payload())
    post(client, delivery_payload())
    assert sent.events.filter(type="delivered").count() == 1
    assert sent.events.count() == 4  # queued, sending, sent, delivered


@pytest.mark.django_db
def test_an_event_for_an_unknown_message_changes_nothing(client, webhook_secret, sent):
    assert post(client, delivery_payload("pm-unknown")).status_code == 200
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.SENT and sent.events.count() == 3


@pytest.mark.django_db
def test_a_suppressed_address_is_skipped_by_the_next_dispatch(client, webhook_secret, sent, draft):
    post(client, bounce_payload())
    assert fanout.write_page(sent.dispatch, "", None) == []  # nothing new, and the next fan-out skips it
    assert Suppression.objects.active().filter(address=sent.address).exists()
