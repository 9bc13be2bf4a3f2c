"""Fixtures of the edXML tests: state bodies with and without agency codes, an issued dispatch to export."""

from __future__ import annotations

import pytest
from django.utils import timezone

from notices.models import DispatchStatus
from recipients.models import Organization, OrganizationEmail, OrganizationKind, OrganizationLevel
from tests.conftest import make_group
from tests.notices.conftest import issue_as_number

ISSUER_CODE = "000.00.00.H99"


def body(name: str, code: str, kind=OrganizationKind.PEOPLES_COMMITTEE) -> Organization:
    """Create an organisation with an address (so that it is reached) and the given agency code."""
    organization = Organization.objects.create(name=name, kind=kind, level=OrganizationLevel.CITY, agency_code=code,
                                               address="Hà Nội", phone="024 3825 3536")  # fmt: skip
    OrganizationEmail.objects.create(organization=organization, address=f"vanthu{organization.pk}@example.vn",
                                     primary=True)  # fmt: skip
    return organization


@pytest.fixture
def bodies(draft):
    """Target two state bodies with codes, one without, an employer with a code, and a group of offices (no code)."""
    draft.issuer.agency_code = ISSUER_CODE
    draft.issuer.save()
    chosen = [
        body("UBND thành phố Hà Nội", "000.00.00.H26"),
        body("Công an thành phố Hà Nội", "000.00.01.H26", OrganizationKind.POLICE),
        body("Sở Tài chính", ""),
        body("Công ty TNHH Minh Anh", "000.00.99.H26", OrganizationKind.EMPLOYER),
    ]
    draft.organizations.add(*chosen)
    draft.groups.add(make_group(2))
    draft.addressees = "UBND thành phố Hà Nội\nCông an thành phố Hà Nội\n" + "X" * 200
    draft.save()
    return chosen


@pytest.fixture
def exported(draft, bodies, clerk, monkeypatch, signing_certificate):
    """The draft issued for real as 05/BHXH-QLT on 5 March 2026: rendered, signed and stored."""
    return issue_as_number(draft, clerk, 5, monkeypatch)


def issued_as_stored(dispatch, clerk, pdf: bytes):
    """Mark the dispatch issued as 05/BHXH-QLT with `pdf` stored, without rendering (for the refusals)."""
    dispatch.status, dispatch.number, dispatch.year, dispatch.series = DispatchStatus.ISSUED, 5, 2026, "regular"
    dispatch.issued_at, dispatch.issued_by = timezone.now(), clerk
    dispatch.store_pdf(pdf)
    dispatch.save()
    return dispatch
