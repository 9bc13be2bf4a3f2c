"""The directory side of the correction loop: items opened once, answers applied or rejected."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from recipients import correcting
from recipients.corrections import CorrectionItem, CorrectionRequest, CorrectionStatus
from recipients.models import Organization, OrganizationEmail, OrganizationKind, OrganizationLevel, Suppression

BAD, GOOD, NEW = "ubnd@phucxa.example.vn", "vanphong@phucxa.example.vn", "congvan@phucxa.example.vn"


@pytest.fixture
def organization(db) -> Organization:
    org = Organization.objects.create(name="UBND phường Phúc Xá", kind=OrganizationKind.PEOPLES_COMMITTEE,
                                      level=OrganizationLevel.COMMUNE)  # fmt: skip
    OrganizationEmail.objects.create(organization=org, address=BAD, primary=True)
    OrganizationEmail.objects.create(organization=org, address=GOOD)
    Suppression.objects.create(address=BAD, reason="bounce")
    return org


@pytest.fixture
def steward(db):
    return get_user_model().objects.create_user("quanly", "quanly@bhxh.example.vn", "pw")


def answer_with(item: CorrectionItem, addresses: list[str], primary: str) -> CorrectionRequest:
    request, _token = CorrectionRequest.issue(item, None)
    assert request.spend(addresses, primary, "Lan", "", "")
    return request


def test_an_item_is_opened_once_per_unresolved_address(organization):
    first = correcting.open_item(organization.pk, BAD, "bounce", "550", timezone.now())
    again = correcting.open_item(organization.pk, BAD, "complaint", "spam", timezone.now())

    assert first == again and CorrectionItem.objects.count() == 1
    assert correcting.open_item(None, BAD, "bounce", "", timezone.now()) is None
    assert correcting.open_item(organization.pk, BAD, "manual", "", timezone.now()) is None


def test_an_approved_answer_replaces_the_addresses_and_lifts_the_confirmed_ones(organization, steward):
    item = correcting.open_item(organization.pk, BAD, "bounce", "550", timezone.now())
    applied = correcting.apply_answer(answer_with(item, [NEW, BAD], NEW), steward)

    emails = dict(organization.emails.values_list("address", "primary"))
    assert emails == {NEW: True, BAD: False}
    assert (applied.before, applied.after, applied.primary, applied.lifted) == ([BAD, GOOD], [NEW, BAD], NEW, [BAD])
    lifted = Suppression.objects.get(address=BAD)
    assert lifted.lifted_by == steward and lifted.lifted_reason
    item.refresh_from_db()
    assert (item.status, item.corrected_address, item.resolved_by) == (CorrectionStatus.CORRECTED, NEW, steward)


def test_an_answer_is_applied_once(organization, steward):
    item = correcting.open_item(organization.pk, BAD, "bounce", "550", timezone.now())
    answer = answer_with(item, [NEW], NEW)
    correcting.apply_answer(answer, steward)

    with pytest.raises(ValueError):
        correcting.apply_answer(answer, steward)
    assert not correcting.reject_answer(answer, steward)


def test_a_rejected_answer_changes_nothing_and_reopens_the_item(organization, steward):
    item = correcting.open_item(organization.pk, BAD, "bounce", "550", timezone.now())

    assert correcting.reject_answer(answer_with(item, [NEW], NEW), steward)

    assert sorted(organization.emails.values_list("address", flat=True)) == [BAD, GOOD]
    item.refresh_from_db()
    assert item.status == CorrectionStatus.OPEN and Suppression.objects.active().filter(address=BAD).exists()


def test_a_link_goes_to_the_other_addresses_that_are_not_suppressed(organization):
    item = correcting.open_item(organization.pk, BAD, "bounce", "550", timezone.now())
    assert correcting.other_addresses(item) == [GOOD]

    Suppression.objects.create(address=GOOD, reason="complaint")
    assert correcting.other_addresses(item) == []
