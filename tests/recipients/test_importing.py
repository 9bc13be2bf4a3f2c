from __future__ import annotations

import datetime
import unicodedata

import pytest
from django.db import connection

from recipients.models import Organization, OrganizationEmail, RecipientGroup
from recipients.tabular import ImportFileError
from tests.recipients.conftest import HEADER, csv_bytes, employer, encode_cp1258, only_error, run, xlsx_bytes

pytestmark = pytest.mark.django_db


def test_it_updates_an_organisation_matched_by_its_tax_code_and_replaces_its_addresses():
    run(csv_bytes([employer(1)]))
    changed = employer(1, bhxh_code="", name="Công ty TNHH Hồng Hà (đổi tên)", emails="Moi@Example.vn; cu@example.vn")

    summary = run(csv_bytes([changed]))

    assert summary.line() == "created=0 updated=1 unchanged=0 errors=0"
    org = Organization.objects.get()
    assert org.name == "Công ty TNHH Hồng Hà (đổi tên)" and org.bhxh_code == "TB00001X"  # absent code kept
    assert list(org.emails.order_by("-primary", "pk").values_list("address", "primary")) == [
        ("moi@example.vn", True), ("cu@example.vn", False)]  # fmt: skip


def test_it_matches_rows_without_codes_by_kind_and_name():
    run(csv_bytes([{"name": "Sở Y tế", "kind": "department", "emails": "a@soyte.example.vn"}]))
    summary = run(csv_bytes([{"name": "sở y tế", "kind": "department", "emails": "b@soyte.example.vn"}]))
    assert summary.updated == 1 and Organization.objects.count() == 1


def test_it_leaves_columns_missing_from_the_file_as_they_are():
    run(csv_bytes([employer(1, phone="024 1111")]))
    run(csv_bytes([employer(1)], header=["name", "kind", "bhxh_code", "emails"]))
    assert Organization.objects.get().phone == "024 1111"


def test_several_addresses_in_a_cell_are_split_trimmed_lowercased_and_the_first_is_primary():
    run(
        csv_bytes(
            [employer(1, emails=" NhanSu@Example.COM ;ketoan@example.com,  giamdoc@example.com; nhansu@example.com")]
        )
    )
    org = Organization.objects.get()
    assert org.primary_email == "nhansu@example.com"
    assert sorted(org.emails.values_list("address", flat=True)) == [
        "giamdoc@example.com", "ketoan@example.com", "nhansu@example.com"]  # fmt: skip


def test_vietnamese_text_is_stored_in_nfc():
    nfd = unicodedata.normalize("NFD", "Công ty Cổ phần Xây dựng Thăng Long")
    run(csv_bytes([employer(1, name=nfd, area=unicodedata.normalize("NFD", "Ứng Hòa"))]))
    org = Organization.objects.get()
    assert org.name == "Công ty Cổ phần Xây dựng Thăng Long" and unicodedata.is_normalized("NFC", org.name)
    assert org.area == "Ứng Hòa"


def test_the_group_option_adds_every_imported_organisation_to_a_static_group():
    run(csv_bytes([employer(1)]))
    run(csv_bytes([employer(1), employer(2)]), group_name="Doanh nghiệp FDI")
    assert RecipientGroup.objects.get(name="Doanh nghiệp FDI").members.count() == 2


def test_a_dry_run_writes_nothing():
    summary = run(csv_bytes([employer(1)]), dry_run=True, group_name="X")
    assert summary.created == 1 and not summary.written
    assert not Organization.objects.exists() and not RecipientGroup.objects.exists()


def test_ten_thousand_rows_import_and_reimport_unchanged():
    data = csv_bytes([employer(i) for i in range(10_000)])
    assert run(data).line() == "created=10000 updated=0 unchanged=0 errors=0"
    assert OrganizationEmail.objects.filter(primary=True).count() == 10_000
    assert run(data).line() == "created=0 updated=0 unchanged=10000 errors=0"


# --- Errors across rows and against the directory ---------------------------------------------
def test_valid_rows_only_writes_the_good_rows_and_reports_the_bad_ones():
    summary = run(csv_bytes([employer(1), employer(2, emails="x"), employer(3)]), valid_only=True)
    assert summary.written and summary.error_rows == 1
    assert sorted(Organization.objects.values_list("bhxh_code", flat=True)) == ["TB00001X", "TB00003X"]


def test_a_file_with_errors_leaves_existing_organisations_untouched():
    run(csv_bytes([employer(1)]))
    summary = run(csv_bytes([employer(1, name="Tên mới"), employer(2, tax_code="bad")]))
    assert summary.updated == 1 and not summary.written
    assert Organization.objects.get().name == "Công ty TNHH Thương mại Hồng Hà 1"


def test_duplicate_codes_inside_the_file_are_reported_against_the_first_row():
    summary = run(csv_bytes([employer(1), employer(2), employer(3, tax_code="0100000001")]))
    assert only_error(summary) == (4, "tax_code", "Duplicate of row 2 (same tax_code).")


def test_duplicate_rows_without_codes_are_reported():
    rows = [{"name": "Sở Y tế", "kind": "department", "emails": "a@example.vn"}] * 2
    assert only_error(run(csv_bytes(rows)))[0] == 3


def test_codes_of_two_different_organisations_in_the_database_are_reported():
    run(csv_bytes([employer(1), employer(2)]))
    summary = run(csv_bytes([employer(1, tax_code="0100000002")]))
    row, column, message = only_error(summary)
    assert row == 2 and "Matches several organisations already in the directory" in message


def test_two_rows_updating_the_same_organisation_are_reported():
    run(csv_bytes([employer(1)]))
    summary = run(csv_bytes([employer(1, tax_code=""), employer(9, bhxh_code="", tax_code="0100000001")]))
    assert only_error(summary)[2] == "Updates the same organisation as row 2."


def test_the_whole_file_and_its_other_errors_are_reported_not_just_the_first():
    rows = [employer(i, emails="bad") if i % 10 == 0 else employer(i) for i in range(1, 101)]
    summary = run(csv_bytes(rows))
    assert [e.row for e in summary.errors] == [11 + 10 * i for i in range(10)]


# --- Encodings ------------------------------------------------------------------------------
VIETNAMESE = {"name": "Công ty Cổ phần Dược phẩm Thăng Long", "area": "Hoàn Kiếm"}


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ","), ("utf-8-sig", ";"), ("utf-16", "\t"), ("utf-16-be", ",")],
)
def test_unicode_files_with_or_without_bom_import(encoding, delimiter):
    data = csv_bytes([employer(1, **VIETNAMESE)], encoding=encoding, delimiter=delimiter)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    assert run(data).errors == []
    assert Organization.objects.get().name == VIETNAMESE["name"]


def test_a_windows_1258_file_from_old_excel_is_detected_and_normalised():
    data = encode_cp1258(csv_text_of([employer(1, **VIETNAMESE)]))
    assert b"\xcc" in data or b"\xec" in data  # a combining tone mark, as cp1258 writes them
    assert run(data).errors == []
    org = Organization.objects.get()
    assert org.name == VIETNAMESE["name"] and unicodedata.is_normalized("NFC", org.name)


def test_a_windows_1252_file_is_detected():
    data = csv_bytes([{"name": "Société Générale Café Müller", "kind": "other", "emails": "a@example.com"}],
                     encoding="cp1252")  # fmt: skip
    assert run(data).errors == []
    assert Organization.objects.get().name == "Société Générale Café Müller"


def test_an_unreadable_file_is_refused_with_how_to_resave_it():
    with pytest.raises(ImportFileError, match="Save As"):
        run(bytes(range(128, 256)) * 20 + b"\x00\x01", "directory.csv")


def test_an_old_xls_workbook_is_refused_with_how_to_resave_it():
    with pytest.raises(ImportFileError, match=r"\.xls.*Save As"):
        run(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "directory.xls")


def test_a_damaged_xlsx_is_refused():
    with pytest.raises(ImportFileError, match="not a readable .xlsx"):
        run(b"PK\x03\x04 not really a zip", "directory.xlsx")


def test_an_xlsx_with_numbers_and_dates_in_cells_imports():
    rows = [HEADER, ["Công ty A", "employer", "", "", "TC1", 100000001, "a@example.vn", 2438000000,
                     datetime.datetime(2025, 7, 1), None]]  # fmt: skip
    summary = run(xlsx_bytes(rows), "a.xlsx")
    assert summary.errors == []
    org = Organization.objects.get()
    assert (org.tax_code, org.phone, org.valid_from) == ("0100000001", "2438000000", datetime.date(2025, 7, 1))


def csv_text_of(rows: list[dict]) -> str:
    return csv_bytes(rows).decode()


def test_a_database_refusal_rolls_everything_back_with_a_message():
    with connection.cursor() as cursor:  # the database itself refuses the second organisation's address
        cursor.execute(
            "ALTER TABLE recipients_organizationemail ADD CONSTRAINT refuse_one CHECK (address <> %s)",
            [employer(2)["emails"]],
        )
    with pytest.raises(ImportFileError, match="The database refused the import, nothing was written"):
        run(csv_bytes([employer(1), employer(2)]))
    assert not Organization.objects.exists()


# --- Audit ------------------------------------------------------------------------------------
def test_a_written_import_is_audited_in_its_transaction_and_a_refused_one_is_not(clerk):
    from notices.models import AuditEvent

    run(csv_bytes([employer(1, emails="not-an-address")]), user=clerk)
    assert not AuditEvent.objects.filter(action="import_directory").exists()

    run(csv_bytes([employer(1), employer(2)]), "nhan-su.csv", user=clerk)
    (event,) = AuditEvent.objects.filter(action="import_directory")
    assert event.actor == clerk
    assert event.details == {"file": "nhan-su.csv", "created": 2, "updated": 0, "unchanged": 0, "error_rows": 0}


@pytest.mark.parametrize("first", [employer(1, emails="khong-phai-email"), employer(1, kind="xyz"), employer(1)])
def test_a_repeated_code_is_reported_against_the_earlier_row_whether_or_not_that_row_was_valid(first):
    summary = run(csv_bytes([first, employer(2, tax_code="0100000001")]), valid_only=True)

    duplicates = [(e.row, e.column, e.message) for e in summary.errors if e.row == 3]
    assert duplicates == [(3, "tax_code", "Duplicate of row 2 (same tax_code).")]
    assert Organization.objects.filter(bhxh_code="TB00002X").count() == 0
