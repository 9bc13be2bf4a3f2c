"""Acknowledgement of receipt through the personal signed link."""

from __future__ import annotations

import pytest

from notices import acknowledgement
from notices.models import DeliveryEvent


@pytest.fixture
def delivery(issue_to):
    return issue_to(1).deliveries.get()


def path_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


@pytest.mark.django_db
def test_the_link_shows_the_button_then_records_the_first_acknowledgement(client, delivery):
    path = path_of(acknowledgement.url(delivery.pk))
    page = client.get(path)
    assert page.status_code == 200 and "Xác nhận đã nhận văn bản" in page.content.decode()
    delivery.refresh_from_db()
    assert delivery.acknowledged_at is None  # opening the link (or a mail scanner) records nothing

    thanks = client.post(path, REMOTE_ADDR="203.0.113.7")
    assert thanks.status_code == 200
    delivery.refresh_from_db()
    assert delivery.acknowledged_at is not None
    (event,) = DeliveryEvent.objects.filter(delivery=delivery, type="acknowledged")
    assert "203.0.113.7" not in event.detail and event.detail == "ip-sha256:" + acknowledgement.hash_ip("203.0.113.7")


@pytest.mark.django_db
def test_a_repeated_acknowledgement_keeps_the_first(client, delivery):
    path = path_of(acknowledgement.url(delivery.pk))
    client.post(path, REMOTE_ADDR="203.0.113.7")
    delivery.refresh_from_db()
    first = delivery.acknowledged_at
    client.post(path, REMOTE_ADDR="198.51.100.9")
    delivery.refresh_from_db()
    assert delivery.acknowledged_at == first
    assert DeliveryEvent.objects.filter(delivery=delivery, type="acknowledged").count() == 1


@pytest.mark.django_db
def test_a_forged_or_altered_link_is_refused(client, delivery):
    token = acknowledgement.token(delivery.pk)
    altered = token.replace(f"{delivery.pk}:", f"{delivery.pk + 1}:", 1)
    for bad in [altered, f"{delivery.pk}:forged-signature", token[:-2]]:
        response = client.post(f"/xac-nhan/{bad}/")
        assert response.status_code == 400
    delivery.refresh_from_db()
    assert delivery.acknowledged_at is None and not DeliveryEvent.objects.filter(type="acknowledged").exists()


@pytest.mark.django_db
def test_one_readers_acknowledgement_records_their_copy_only(issue_to):
    first, second = issue_to(2).deliveries.order_by("pk")
    assert acknowledgement.record(first.pk, "203.0.113.7") is True
    assert acknowledgement.record(first.pk, "203.0.113.7") is False, "the second press is not a first one"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.acknowledged_at is not None and second.acknowledged_at is None
    (event,) = DeliveryEvent.objects.filter(type="acknowledged")
    assert event.delivery_id == first.pk and event.at == first.acknowledged_at


def test_the_address_hash_tells_addresses_apart_and_keeps_one_address_the_same():
    assert acknowledgement.hash_ip("203.0.113.7") == acknowledgement.hash_ip("203.0.113.7")
    assert acknowledgement.hash_ip("203.0.113.7") != acknowledgement.hash_ip("198.51.100.9")
