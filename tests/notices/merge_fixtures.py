"""Fixtures of the merge data tests: employers with BHXH codes, a personalised dispatch to them, and its merge file."""

from __future__ import annotations

import csv
import io

import pytest

from notices.merge_data import attach
from recipients.models import Organization, OrganizationEmail, OrganizationKind, OrganizationLevel
from tests.recipients.conftest import encode_cp1258, xlsx_bytes

HEADER = ["Mã đơn vị", "Tên đơn vị", "Số tiền nợ", "Tháng"]


def csv_text(rows: list[list]) -> str:
    """Return the rows under the merge file's header as CSV text."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADER, *rows])
    return buffer.getvalue()


ENCODINGS = {
    "utf-8-sig": lambda text: text.encode("utf-8-sig"),
    "utf-16": lambda text: text.replace(",", "\t").encode("utf-16"),
    "cp1258": encode_cp1258,
}


@pytest.fixture
def employers(db):
    """Three employers with BHXH codes TB00001..TB00003, each with one address."""
    orgs = [Organization.objects.create(name=f"Công ty Hồng Hà {i}", kind=OrganizationKind.EMPLOYER,
                                        level=OrganizationLevel.CITY, bhxh_code=f"TB{i:05d}") for i in range(1, 4)]  # fmt: skip
    for org in orgs:
        OrganizationEmail.objects.create(organization=org, address=f"ke-toan{org.pk}@example.com", primary=True)
    return orgs


@pytest.fixture
def personalised(draft, employers):
    """The draft, personalised and addressed to the three employers, its body using a field and the table."""
    draft.personalised = True
    draft.subject = "đôn đốc thu nợ"
    draft.body = "<p>Số nợ {{ so_tien_no|money }}</p><table><tr><td>{% for r in table %}{{ r.thang }}{% endfor %}</td></tr></table>"
    draft.save()
    draft.organizations.set(employers)
    return draft


@pytest.fixture
def uploaded(personalised, drafter, employers):
    """The personalised draft with a clean merge file attached (one row per employer)."""
    rows = [HEADER, *[[org.bhxh_code, org.name, 1, "01/2026"] for org in employers]]
    attach(personalised, xlsx_bytes(rows), "no-thang-3.xlsx", "bhxh_code", drafter)
    return personalised
