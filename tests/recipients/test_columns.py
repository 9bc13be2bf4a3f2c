"""The directory spreadsheet's columns (recipients/columns.py): headers matched without accents, case or spacing."""

from __future__ import annotations

import pytest

from recipients.models import Organization
from tests.recipients.conftest import csv_bytes, employer, run

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "header",
    [
        ["ten_don_vi", "loai", "dia_ban", "ma_don_vi", "ma_so_thue", "email", "dien_thoai", "dia_chi"],
        ["TEN DON VI", "LOAI", "DIA BAN", "MA DON VI", "MA SO THUE", "EMAIL", "DIEN THOAI", "DIA CHI"],
        ["Tên đơn vị", "Loại", "Địa bàn", "Mã đơn vị", "Mã số thuế", "Email", "Điện thoại", "Địa chỉ"],
        ["  Tên  Đơn_Vị ", "loại", "Dia-ban", "ma  don vi", "Mã Số Thuế", "E-mail", "Số điện thoại", "dia chi"],
    ],
)
def test_headers_with_or_without_accents_in_any_case_and_spacing_are_accepted(header):
    keys = ["name", "kind", "area", "bhxh_code", "tax_code", "emails", "phone", "address"]
    data = csv_bytes([employer(1, address="Số 1 Tôn Đức Thắng")], header=keys)
    data = data.replace(",".join(keys).encode(), ",".join(header).encode(), 1)

    summary = run(data)

    assert summary.errors == [] and summary.ignored_columns == []
    org = Organization.objects.get()
    assert (org.area, org.bhxh_code, org.tax_code, org.phone, org.address) == (
        "Đống Đa", "TB00001X", "0100000001", "024 3800 0000", "Số 1 Tôn Đức Thắng")  # fmt: skip


def test_every_header_spelling_names_one_column_only():
    from recipients.columns import COLUMNS, HEADERS, header_key

    assert all(HEADERS[header_key(alias)] == c.key for c in COLUMNS for alias in (c.key, *c.aliases))


def test_a_header_is_matched_by_its_words_without_accents_case_or_separators():
    from recipients.columns import HEADERS, header_key

    assert header_key("  Mã_số thuế ") == header_key("MA-SO.THUE") == "ma so thue"
    assert header_key(None) == ""
    assert HEADERS[header_key("Thư điện tử")] == HEADERS[header_key("E_MAIL")] == "emails"
    assert header_key("Tên cty") not in HEADERS
