"""The directory export (recipients/exporting.py): cells escaped, and an export re-imports unchanged."""

from __future__ import annotations

import pytest

from recipients.exporting import export_directory
from recipients.models import Organization, OrganizationEmail
from recipients.seed import seed_directory
from tests.recipients.conftest import run

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_of_the_seeded_directory_reimports_unchanged(fmt):
    seed_directory()
    before = sorted(Organization.objects.values_list("name", "kind", "level", "valid_from", "valid_to", "tags"))
    summary = run(export_directory(fmt=fmt), f"export.{fmt}")

    assert summary.line() == f"created=0 updated=0 unchanged={len(before)} errors=0"
    assert sorted(Organization.objects.values_list("name", "kind", "level", "valid_from", "valid_to", "tags")) == before


def test_an_export_imports_into_an_empty_directory_with_the_same_content():
    seed_directory()
    data = export_directory(fmt="xlsx")
    emails = sorted(OrganizationEmail.objects.values_list("organization__name", "address", "primary"))
    Organization.objects.all().delete()

    summary = run(data, "export.xlsx")

    assert summary.created == len(emails) and summary.errors == []
    assert sorted(OrganizationEmail.objects.values_list("organization__name", "address", "primary")) == emails


def test_the_export_escapes_cells_a_spreadsheet_would_run_as_formulas_and_the_import_restores_them():
    org = Organization.objects.create(name="=HYPERLINK(\"http://evil.example\")", kind="other", level="city",
                                      phone="+84 24 3800 0000", address="@home", short_name="-x")  # fmt: skip
    OrganizationEmail.objects.create(organization=org, address="a@example.vn", primary=True)

    text = export_directory(fmt="csv").decode("utf-8-sig")

    assert "'=HYPERLINK" in text and "'+84 24" in text and "'@home" in text and ",'-x," in text
    assert run(text.encode(), "export.csv").unchanged == 1
    org.refresh_from_db()
    assert (org.name, org.phone, org.address) == ('=HYPERLINK("http://evil.example")', "+84 24 3800 0000", "@home")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_value_that_starts_with_an_apostrophe_keeps_it_through_an_export_and_import(fmt):
    org = Organization.objects.create(name="'Hợp tác xã' Đông Anh", short_name="''", kind="other", level="city",
                                      address="'=không phải công thức")  # fmt: skip
    OrganizationEmail.objects.create(organization=org, address="a@example.vn", primary=True)
    data = export_directory(fmt=fmt)
    Organization.objects.all().delete()

    assert run(data, f"export.{fmt}").created == 1
    org = Organization.objects.get()
    assert (org.name, org.short_name, org.address) == ("'Hợp tác xã' Đông Anh", "''", "'=không phải công thức")
