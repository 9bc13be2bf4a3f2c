"""Row and header validation, through the import as a user meets it."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation

from recipients.models import Organization
from recipients.tabular import ImportFileError
from tests.recipients.conftest import csv_bytes, employer, only_error, run

pytestmark = pytest.mark.django_db


def test_it_accepts_vietnamese_headers_kind_labels_and_day_first_dates():
    header = ["Tên đơn vị", "Loại", "Cấp", "Email", "Hiệu lực từ"]
    data = csv_bytes([{"name": "UBND Phường Ba Đình", "kind": "UBND", "level": "Xã", "emails": "a@example.vn",
                       "valid_from": "01/07/2025"}], header=["name", "kind", "level", "emails", "valid_from"])  # fmt: skip
    data = data.replace(b"name,kind,level,emails,valid_from", ",".join(header).encode())
    assert run(data).errors == []
    org = Organization.objects.get()
    assert (org.kind, org.level, org.valid_from) == ("committee", "commune", datetime.date(2025, 7, 1))


# --- One bad value per rule -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("override", "column", "message"),
    [
        ({"emails": "nhansu.example.com"}, "emails", "is not a valid email address"),
        ({"emails": "a@example.com; b@@example.com"}, "emails", "“b@@example.com” is not a valid email address"),
        ({"emails": ""}, "emails", "At least one email address is required."),
        ({"kind": "doanh nghiep tu nhan"}, "kind", "Unknown kind “doanh nghiep tu nhan”"),
        ({"level": "tỉnh"}, "level", "Unknown level “tỉnh”"),
        ({"name": ""}, "name", "A name is required."),
        ({"name": "Công ty " + "x" * 300}, "name", "Too long: 308 characters, at most 255."),
        ({"bhxh_code": "B" * 21}, "bhxh_code", "Too long: 21 characters, at most 20."),
        ({"tax_code": "01-2345"}, "tax_code", "A tax code has 10 digits"),
        ({"valid_from": "30/02/2025"}, "valid_from", "“30/02/2025” is not a date"),
        (
            {"valid_from": "2025-07-01", "valid_to": "2025-06-30"},
            "valid_to",
            "The end of validity is before its start.",
        ),
    ],
)
def test_each_bad_value_is_reported_on_its_row_and_nothing_is_written(override, column, message):
    summary = run(csv_bytes([employer(1), employer(2, **override), employer(3)]))

    row, error_column, error_message = only_error(summary)
    assert (row, error_column) == (3, column) and message in error_message
    assert summary.line() == "created=2 updated=0 unchanged=0 errors=1"
    assert not summary.written and not Organization.objects.exists()


def test_missing_required_columns_refuse_the_file():
    with pytest.raises(ImportFileError, match="Missing required columns: kind, emails"):
        run(csv_bytes([employer(1)], header=["name", "bhxh_code"]))


def test_a_default_kind_replaces_the_kind_column():
    summary = run(csv_bytes([employer(1)], header=["name", "bhxh_code", "emails"]), default_kind="employer")
    assert summary.created == 1 and Organization.objects.get().kind == "employer"


def test_a_refused_header_row_names_the_headers_it_did_not_recognise():
    data = csv_bytes([employer(1)], header=["name", "kind", "emails"]).replace(b"name,", b"Ten cty,", 1)
    with pytest.raises(ImportFileError, match="Missing required columns: name.*Columns not recognised: Ten cty."):
        run(data)


@pytest.mark.parametrize("address", ["a..b@x.vn", "a b@x.vn", ".a@x.vn", "a.@x.vn", "a(b)@x.vn"])
def test_an_email_whose_local_part_is_malformed_is_refused_on_its_row(address):
    summary = run(csv_bytes([employer(1), employer(2, emails=address)]))
    assert {(e.row, e.column) for e in summary.errors} == {(3, "emails")} and not summary.written


def test_an_address_disguised_with_cyrillic_letters_is_refused_on_its_row():
    summary = run(csv_bytes([employer(1), employer(2, emails="ok@example.vn; \u0430dmin@bhxh.example.vn")]))
    row, column, message = only_error(summary)
    assert (row, column) == (3, "emails") and "U+0430 CYRILLIC SMALL LETTER A" in message


@pytest.mark.parametrize(("kind", "level"), [("Doanh nghiep", "Phuong"), ("DOANH NGHIỆP", "phường"), ("cong an", "xa")])
def test_kinds_and_levels_are_recognised_with_or_without_accents(kind, level):
    assert run(csv_bytes([employer(1, kind=kind, level=level)])).errors == []
    assert Organization.objects.get().level == "commune"


@pytest.mark.parametrize(
    ("written", "active"), [("", True), ("1", True), ("Có", True), ("x", True), ("0", False), ("KHÔNG", False)]
)
def test_the_active_flag_reads_yes_and_no_in_both_languages(written, active):
    header = ["name", "kind", "emails", "active"]
    assert run(csv_bytes([employer(1, active=written)], header=header)).errors == []
    assert Organization.objects.get().active is active


def test_an_active_flag_that_is_neither_yes_nor_no_is_reported_with_the_value():
    header = ["name", "kind", "emails", "active"]
    summary = run(csv_bytes([employer(1, active="maybe")], header=header))
    assert only_error(summary) == (2, "active", "“maybe” is not yes or no; write 1 or 0.")


@pytest.mark.parametrize("written", ["2025-07-01", "01/07/2025", "01-07-2025", "01.07.2025"])
def test_a_date_is_read_in_each_accepted_form(written):
    header = ["name", "kind", "emails", "valid_from"]
    assert run(csv_bytes([employer(1, valid_from=written)], header=header)).errors == []
    assert Organization.objects.get().valid_from == datetime.date(2025, 7, 1)


def test_a_date_in_no_accepted_form_is_reported_with_the_forms_to_use():
    header = ["name", "kind", "emails", "valid_from"]
    summary = run(csv_bytes([employer(1, valid_from="01.07.25")], header=header))
    assert only_error(summary) == (2, "valid_from", "“01.07.25” is not a date; write YYYY-MM-DD or DD/MM/YYYY.")


def test_a_kind_written_as_its_vietnamese_label_is_accepted():
    assert run(csv_bytes([employer(1, kind="Tổ chức dịch vụ thu")])).errors == []
    assert Organization.objects.get().kind == "agent"


def test_an_unknown_kind_lists_the_codes_to_use_and_english_labels_are_accepted():
    summary = run(csv_bytes([employer(1, kind="Collection agent"), employer(2, kind="Trường học")]))
    row, column, message = only_error(summary)
    assert (row, column) == (3, "kind")
    assert (
        message == "Unknown kind “Trường học”; use one of: agent, bhxh, committee, department, employer, other, police."
    )


def test_a_row_without_a_kind_is_reported_when_the_file_gives_no_default():
    summary = run(csv_bytes([employer(1), employer(2, kind="")]))
    assert only_error(summary) == (3, "kind", "A kind is required.")


def test_a_row_shorter_than_the_header_reads_its_missing_cells_as_empty():
    data = "name,kind,emails,phone\r\nCông ty Hồng Hà,employer,nhansu@honghà.example.vn\r\n".replace("à", "a")
    assert run(data.encode()).errors == []
    assert Organization.objects.get().phone == ""


def test_codes_are_upper_cased_tags_normalised_and_an_empty_level_is_the_city():
    header = ["name", "kind", "level", "emails", "bhxh_code", "agency_code", "tags"]
    row = employer(1, level="", bhxh_code="tb00001x", agency_code="000.00.00.h26", tags=" FDI ;Dệt may, fdi ")
    assert run(csv_bytes([row], header=header)).errors == []
    org = Organization.objects.get()
    assert (org.level, org.bhxh_code, org.agency_code) == ("city", "TB00001X", "000.00.00.H26")
    assert org.tags == "dệt may, fdi"


def test_a_repeated_address_is_kept_once_and_the_addresses_after_it_are_kept_too():
    emails = "a@honghai.example.vn; A@honghai.example.vn; b@honghai.example.vn"
    assert run(csv_bytes([employer(1, emails=emails)])).errors == []
    org = Organization.objects.get()
    assert sorted(org.emails.values_list("address", flat=True)) == ["a@honghai.example.vn", "b@honghai.example.vn"]


def test_a_body_valid_for_one_day_only_is_accepted():
    header = ["name", "kind", "emails", "valid_from", "valid_to"]
    assert run(csv_bytes([employer(1, valid_from="2025-07-01", valid_to="2025-07-01")], header=header)).errors == []


def test_an_empty_file_is_refused_as_empty():
    with pytest.raises(ImportFileError, match="^The file is empty.$"):
        run(b"")


def test_the_row_errors_are_told_in_vietnamese():
    header = ["name", "kind", "emails", "valid_from", "valid_to", "phone"]
    rows = [employer(1, name=""), employer(2, valid_from="2025-07-02", valid_to="2025-07-01"),
            employer(3, emails=""), employer(4, phone="0" * 51), employer(5, emails="x")]  # fmt: skip
    with translation.override("vi"):
        summary = run(csv_bytes(rows, header=header))
    assert [(e.row, e.column, e.message) for e in summary.errors] == [
        (2, "name", "Phải ghi tên."),
        (3, "valid_to", "Ngày hết hiệu lực trước ngày bắt đầu hiệu lực."),
        (4, "emails", "Phải có ít nhất một địa chỉ thư điện tử."),
        (5, "phone", "Quá dài: 51 ký tự, tối đa 50."),
        (6, "emails", summary.errors[-1].message),
    ]
    assert summary.errors[-1].message.startswith("“x” không phải là địa chỉ thư điện tử hợp lệ: ")


def test_a_column_named_twice_is_refused_by_name():
    data = "name,kind,email,thư điện tử\r\nCông ty,employer,a@x.vn,b@x.vn\r\n".encode()
    with pytest.raises(ImportFileError, match="^These columns appear twice: emails.$"):
        run(data)


def test_a_refusal_for_missing_columns_lists_the_unrecognised_headers_but_not_blank_ones():
    data = "name,,foo,bar\r\nCông ty,,1,2\r\n".encode()
    with pytest.raises(ImportFileError) as refused:
        run(data)
    assert str(refused.value) == (
        "Missing required columns: kind, emails. The first row must name the columns, as in the template file. "
        "Columns not recognised: foo, bar."
    )
