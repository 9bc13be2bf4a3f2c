"""A small seeded volume for the dashboard tests: dispatches issued over the last weeks, deliveries of every kind
of recipient, some bounced, some acknowledged."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from notices import dashboard
from notices.models import Delivery, DeliveryStatus, Dispatch, DispatchCount, DispatchStatus
from recipients.models import Organization, OrganizationKind

S = DeliveryStatus
KINDS = [OrganizationKind.POLICE, OrganizationKind.EMPLOYER, OrganizationKind.PEOPLES_COMMITTEE]


def seed(draft, dispatches: int = 4, per_dispatch: int = 30, now: datetime.datetime | None = None) -> list[Dispatch]:
    """Issue `dispatches` copies of the draft, one a week back from now, each to `per_dispatch` organisations:
    every 10th bounced, every 3rd acknowledged a day after it was sent (every 5th of the police: 3 days)."""
    now = now or timezone.now()
    orgs = Organization.objects.bulk_create(
        Organization(name=f"Đơn vị số {i}", search_name=f"don vi so {i}", kind=KINDS[i % 3], level="commune")
        for i in range(per_dispatch)
    )
    made = []
    for g in range(dispatches):
        issued = now - datetime.timedelta(weeks=g, hours=1)
        dispatch = Dispatch.objects.create(issuer=draft.issuer, drafting_unit=draft.drafting_unit, signer=draft.signer,
                                           subject=f"công văn thứ {g}", body="<p>x</p>", status=DispatchStatus.SENT,
                                           series="regular", year=2026, number=100 + g, issued_at=issued)  # fmt: skip
        Delivery.objects.bulk_create(
            Delivery(dispatch=dispatch, organization=org, organization_name=org.name, address=f"o{i}@example.vn",
                     status=S.BOUNCED if i % 10 == 0 else S.DELIVERED, created_at=issued,
                     sent_at=issued + datetime.timedelta(minutes=i),
                     acknowledged_at=(issued + datetime.timedelta(days=3 if i % 5 == 0 else 1)) if i % 3 == 0 else None)
            for i, org in enumerate(orgs)
        )  # fmt: skip
        made.append(dispatch)
    DispatchCount.objects.refresh([d.pk for d in made])
    return made


@pytest.fixture
def seeded(draft) -> list[Dispatch]:
    cache.delete(dashboard.SLOWEST_KEY)  # another test's figures, kept in the test Redis
    yield seed(draft)
    cache.delete(dashboard.SLOWEST_KEY)
