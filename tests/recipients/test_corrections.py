"""The correction loop's records: links stored as a hash, spent once, expiring."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from recipients.corrections import CorrectionItem, CorrectionRequest, CorrectionStatus, token_digest
from recipients.models import Organization, OrganizationKind, OrganizationLevel


@pytest.fixture
def item(db) -> CorrectionItem:
    org = Organization.objects.create(name="UBND phường Phúc Xá", kind=OrganizationKind.PEOPLES_COMMITTEE,
                                      level=OrganizationLevel.COMMUNE)  # fmt: skip
    return CorrectionItem.objects.create(organization=org, address="ubnd@phucxa.example.vn", reason="bounce")


def test_a_link_stores_only_the_hash_of_its_token_and_expires_after_the_set_days(item, settings):
    settings.CORRECTION_LINK_DAYS = 3
    request, token = CorrectionRequest.issue(item, None)

    assert request.token_sha256 == token_digest(token) and token not in request.token_sha256
    assert len(token) >= 40
    assert abs(request.expires_at - timezone.now() - datetime.timedelta(days=3)) < datetime.timedelta(minutes=1)
    assert CorrectionRequest.objects.of_token(token) == request


def test_an_altered_or_oversized_token_names_no_link(item):
    _request, token = CorrectionRequest.issue(item, None)

    assert CorrectionRequest.objects.of_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert CorrectionRequest.objects.of_token("x" * 101) is None
    assert CorrectionRequest.objects.of_token("") is None


def test_a_link_is_spent_by_its_first_answer_only(item):
    request, _token = CorrectionRequest.issue(item, None)

    assert request.spend(["a@phucxa.example.vn"], "a@phucxa.example.vn", "Lan", "", "")
    assert not request.spend(["b@phucxa.example.vn"], "b@phucxa.example.vn", "Kẻ gian", "", "")

    request.refresh_from_db()
    assert request.addresses == ["a@phucxa.example.vn"] and request.contact_name == "Lan"
    item.refresh_from_db()
    assert item.status == CorrectionStatus.ANSWERED and request.is_pending


def test_an_expired_link_accepts_no_answer(item):
    request, _token = CorrectionRequest.issue(item, None)
    CorrectionRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    request.refresh_from_db()

    assert request.is_expired and not request.spend(["a@phucxa.example.vn"], "a@phucxa.example.vn", "Lan", "", "")
    item.refresh_from_db()
    assert item.status == CorrectionStatus.OPEN


def test_only_unresolved_items_are_listed_for_the_stewards(item):
    CorrectionItem.objects.create(organization=item.organization, address="old@phucxa.example.vn", reason="bounce",
                                  status=CorrectionStatus.CORRECTED)  # fmt: skip

    assert list(CorrectionItem.objects.unresolved()) == [item]
