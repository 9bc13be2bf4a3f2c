"""Merge data files (notices/merge_data.py): headers become field names, CSV and XLSX read, the code column required."""

from __future__ import annotations

import pytest

from notices.merge_data import attach, field_name
from notices.models.merge_report import merge_report
from recipients.tabular import ImportFileError
from tests.notices.merge_fixtures import HEADER
from tests.recipients.conftest import xlsx_bytes


def test_headers_become_field_names():
    assert field_name("Số tiền nợ") == "so_tien_no"
    assert field_name(" Hạn  nộp ") == "han_nop"
    assert field_name("2026") == "cot_2026"


def test_an_xlsx_file_is_read_and_a_clean_file_has_no_problem(personalised, drafter, employers):
    rows = [HEADER, *[[org.bhxh_code, org.name, 1000 * i, "01/2026"] for i, org in enumerate(employers, 1)]]
    attach(personalised, xlsx_bytes(rows), "no.xlsx", "bhxh_code", drafter)
    report = merge_report(personalised)
    assert not report.has_errors and report.records == 3 and report.targeted == 3


def test_a_file_without_the_code_column_is_refused(personalised, drafter):
    with pytest.raises(ImportFileError, match="no column of the code"):
        attach(personalised, "Tên,Số tiền\r\nA,1\r\n".encode(), "no.csv", "bhxh_code", drafter)
