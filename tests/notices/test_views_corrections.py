"""The public correction page: valid, expired, altered and replayed links; CSRF; the rate limit; input limits."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from notices.models import AuditEvent
from recipients.corrections import CorrectionRequest, CorrectionStatus
from recipients.models import Organization, OrganizationEmail
from tests.notices.correction_fixtures import BAD, NEW, OTHER


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.delete("correction-page:127.0.0.1")
    yield
    cache.delete("correction-page:127.0.0.1")


@pytest.fixture
def link(item, steward) -> tuple[CorrectionRequest, str]:
    return CorrectionRequest.issue(item, steward)


def url(token: str) -> str:
    return f"/sua-dia-chi/{token}/"


def answer(**changes) -> dict:
    return {"address_1": NEW, "address_2": OTHER, "primary": "1", "contact_name": "Nguyễn Thị Lan",
            "contact_phone": "024 3826 1234", "note": "", **changes}  # fmt: skip


def csrf_client(client_url: str) -> tuple[Client, str]:
    """Return a client that enforces CSRF, with the token of the form it was shown."""
    client = Client(enforce_csrf_checks=True)
    response = client.get(client_url)
    return client, response.cookies["csrftoken"].value


def test_a_valid_link_shows_only_that_organisations_addresses(link, item):
    stranger = Organization.objects.create(name="Công ty khác", kind="employer", level="city")
    OrganizationEmail.objects.create(organization=stranger, address="ketoan@congtykhac.example.vn")

    response = Client().get(url(link[1]))

    page = response.content.decode()
    assert response.status_code == 200 and item.organization.name in page
    assert BAD in page and OTHER in page and "congtykhac" not in page
    assert response["Cache-Control"].startswith("max-age=0")


def test_an_answer_is_recorded_once_and_waits_for_a_steward(link, item):
    client, csrf = csrf_client(url(link[1]))

    response = client.post(url(link[1]), {**answer(), "csrfmiddlewaretoken": csrf})

    assert response.status_code == 200
    request = CorrectionRequest.objects.get()
    assert (request.addresses, request.primary_address, request.contact_name) == ([NEW, OTHER], NEW, "Nguyễn Thị Lan")
    item.refresh_from_db()
    assert item.status == CorrectionStatus.ANSWERED
    assert sorted(item.organization.emails.values_list("address", flat=True)) == sorted([BAD, OTHER])  # not yet
    assert AuditEvent.objects.get(action="correction_answered").details["addresses"] == [NEW, OTHER]


def test_a_replayed_answer_is_refused(link):
    client, csrf = csrf_client(url(link[1]))
    client.post(url(link[1]), {**answer(), "csrfmiddlewaretoken": csrf})

    replay = client.post(url(link[1]), {**answer(address_1="ke-gian@example.vn"), "csrfmiddlewaretoken": csrf})

    assert replay.status_code == 410
    assert CorrectionRequest.objects.get().addresses == [NEW, OTHER]
    assert Client().get(url(link[1])).status_code == 410


def test_an_expired_link_is_refused(link):
    CorrectionRequest.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))

    assert Client().get(url(link[1])).status_code == 410
    assert Client().post(url(link[1]), answer()).status_code == 410
    assert CorrectionRequest.objects.get().answered_at is None


def test_an_altered_link_is_refused(link):
    token = link[1]
    altered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")

    response = Client().post(url(altered), answer())

    assert response.status_code == 404 and CorrectionRequest.objects.get().answered_at is None


def test_a_post_without_the_csrf_token_is_refused(link):
    response = Client(enforce_csrf_checks=True).post(url(link[1]), answer())

    assert response.status_code == 403 and CorrectionRequest.objects.get().answered_at is None


@pytest.mark.parametrize(
    "changes",
    [
        {"address_1": "not-an-address", "address_2": ""},
        {"address_1": "", "address_2": ""},
        {"primary": "3"},  # the third field is empty
        {"contact_name": ""},
        {"contact_name": "x" * 201},
        {"note": "x" * 1001},
        {"address_1": "a" * 250 + "@example.vn"},
    ],
)
def test_bad_input_is_refused_and_the_link_stays_unspent(link, changes):
    response = Client().post(url(link[1]), answer(**changes))

    assert response.status_code == 400
    assert CorrectionRequest.objects.get().answered_at is None


def test_too_many_requests_from_one_address_are_refused(link, settings):
    settings.CORRECTION_RATE_LIMIT = 3
    client = Client()
    statuses = [client.get(url("guess-" + str(i))).status_code for i in range(4)]

    assert statuses == [404, 404, 404, 429]
    assert client.get(url(link[1])).status_code == 429
