"""Fixtures of the correction loop's tests: an address that bounced hard, its organisation, a steward."""

from __future__ import annotations

import pytest

from notices import roles, tracking
from notices.models import Delivery, DeliveryStatus, Dispatch
from recipients.corrections import CorrectionItem, CorrectionRequest
from recipients.models import OrganizationEmail
from tests.conftest import make_user

BOUNCE = "smtp;550 5.1.1 The email account that you tried to reach does not exist."
BAD, OTHER, NEW = "office000@bhxh-hanoi.example.vn", "vanthu@phuong-x.example.vn", "congvan@phuong-x.example.vn"


@pytest.fixture
def steward(db):
    return make_user("quanlydanhba", roles.STEWARD)


def bounce(delivery: Delivery, key: str = "test:bounce-1") -> None:
    """Apply a hard bounce of a sent delivery, as the provider's webhook would."""
    Delivery.every_kind.claim([delivery.pk])
    Delivery.every_kind.record_sent([(delivery.pk, f"pm-{delivery.pk}", delivery.created_at)])
    tracking.apply_to(delivery, DeliveryStatus.BOUNCED, key, BOUNCE, delivery.created_at)


@pytest.fixture
def bounced(issue_to) -> Dispatch:
    """A dispatch to one office whose only address bounced hard; the office has a second address, not used."""
    dispatch = issue_to(1)
    delivery = dispatch.deliveries.get()
    OrganizationEmail.objects.create(organization_id=delivery.organization_id, address=OTHER)
    bounce(delivery)
    return dispatch


@pytest.fixture
def item(bounced) -> CorrectionItem:
    return CorrectionItem.objects.get()


def answered(item: CorrectionItem, user, addresses=(NEW,), primary: str = NEW) -> CorrectionRequest:
    """Return a link of the item answered by the organisation with these addresses."""
    request, _token = CorrectionRequest.issue(item, user)
    assert request.spend(list(addresses), primary, "Nguyễn Thị Lan", "024 3826 1234", "")
    return request
