"""The directory's import, export and template download in the organisation admin (recipients/import_admin.py)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.conf import settings
from django.urls import reverse

from notices import roles
from recipients.columns import COLUMN_KEYS
from recipients.import_admin import PENDING_DIR
from recipients.models import Organization
from recipients.seed import seed_directory
from tests.conftest import make_user
from tests.recipients.conftest import IMPORT_URL, csv_bytes, employer, xlsx_with_sheet

pytestmark = pytest.mark.django_db


def upload(client, data: bytes, name: str = "danh-ba.csv", **fields):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse(IMPORT_URL), {"file": file, "kind": "", "group": "", **fields})


def test_the_clerk_previews_an_upload_and_nothing_is_written_until_confirmed(clerk_client):
    response = upload(clerk_client, csv_bytes([employer(1), employer(2)]))

    assert response.status_code == 200
    assert response.context["summary"].created == 2 and not Organization.objects.exists()
    response = clerk_client.post(reverse(IMPORT_URL), {"confirm": response.context["token"]}, follow=True)
    assert Organization.objects.count() == 2
    assert "2" in str(list(response.context["messages"])[0])
    assert list((settings.MEDIA_ROOT / PENDING_DIR).iterdir()) == []  # the kept file is gone once imported


def test_the_preview_lists_each_row_error_and_offers_no_import(clerk_client):
    response = upload(clerk_client, csv_bytes([employer(1, emails="sai"), employer(2, kind="công ty")]))
    html = response.content.decode()
    assert [(e.row, e.column) for e in response.context["summary"].errors] == [(2, "emails"), (3, "kind")]
    assert "“sai”" in html and "công ty" in html
    assert 'name="confirm"' not in html and "token" not in response.context
    assert not Organization.objects.exists() and not (settings.MEDIA_ROOT / PENDING_DIR).exists()


def test_valid_only_from_the_admin_imports_the_good_rows(clerk_client):
    response = upload(clerk_client, csv_bytes([employer(1, emails="sai"), employer(2)]), valid_only="on")
    clerk_client.post(reverse(IMPORT_URL), {"confirm": response.context["token"]})
    assert list(Organization.objects.values_list("bhxh_code", flat=True)) == ["TB00002X"]


def test_an_unreadable_upload_is_shown_as_a_form_error(clerk_client):
    response = upload(clerk_client, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, "old.csv")
    assert "Save As" in str(response.context["form"].errors["file"])


def test_a_forged_confirmation_is_refused(clerk_client):
    response = clerk_client.post(reverse(IMPORT_URL), {"confirm": "imports/pending/x.csv"}, follow=True)
    assert response.status_code == 200 and not Organization.objects.exists()


def test_the_template_file_has_the_import_columns(clerk_client):
    response = clerk_client.get(reverse("admin:recipients_organization_import_template"))
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(workbook["directory"].iter_rows(values_only=True))
    assert list(rows[0]) == COLUMN_KEYS and rows[1][0].startswith("Công ty")


def test_the_export_follows_the_change_list_filters(clerk_client):
    upload_response = upload(clerk_client, csv_bytes([employer(1), employer(2, kind="agent")]))
    clerk_client.post(reverse(IMPORT_URL), {"confirm": upload_response.context["token"]})

    response = clerk_client.get(reverse("admin:recipients_organization_export", args=["csv"]) + "?kind__exact=agent")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(COLUMN_KEYS) and len(lines) == 2 and "TB00002X" in lines[1]


def test_an_auditor_cannot_import(client, auditor):
    client.force_login(auditor)
    assert client.get(reverse(IMPORT_URL)).status_code == 403


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(roles.DRAFTER, False), (roles.APPROVER, False), (roles.CLERK, True), (roles.AUDITOR, True),
     (roles.ADMINISTRATOR, True)],
)  # fmt: skip
def test_only_the_roles_holding_the_export_permission_may_export_the_directory(client, role, allowed):
    seed_directory()
    client.force_login(make_user("nguoidung", role))
    changelist = client.get(reverse("admin:recipients_organization_changelist")).content.decode()

    for fmt in ("csv", "xlsx"):
        response = client.get(reverse("admin:recipients_organization_export", args=[fmt]))
        assert response.status_code == (200 if allowed else 403)
    assert ("/export/csv/" in changelist) is allowed


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (xlsx_with_sheet("<row/>", '<dimension ref="A1:XFD1048576"/>'), "lon.xlsx", "more than 100 columns"),
        (csv_bytes([employer(1, name="x" * 200_000)]), "o-lon.csv", "a cell is longer than 10000 characters"),
        (b"PK\x03\x04" + b"\x00" * 200, "hong.xlsx", "not a readable .xlsx workbook"),
    ],
)
def test_a_hostile_or_damaged_upload_is_listed_as_a_form_error_not_a_server_error(clerk_client, data, name, message):
    response = upload(clerk_client, data, name)
    assert response.status_code == 200
    assert message in str(response.context["form"].errors["file"])
    assert not Organization.objects.exists()


def test_an_upload_waiting_for_confirmation_is_kept_in_the_private_bucket_and_removed_once_imported(
    clerk_client, s3_storage
):
    response = upload(clerk_client, csv_bytes([employer(1), employer(2)]))
    (kept,) = [key for key in s3_storage.keys() if key.startswith(f"{PENDING_DIR}/")]
    assert s3_storage.read(kept) == csv_bytes([employer(1), employer(2)])
    assert not (settings.MEDIA_ROOT / PENDING_DIR).exists(), "nothing on the local disk"

    clerk_client.post(reverse(IMPORT_URL), {"confirm": response.context["token"]})
    assert Organization.objects.count() == 2 and kept not in s3_storage.keys()
