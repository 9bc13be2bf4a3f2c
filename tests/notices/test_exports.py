"""The CSV and XLSX downloads every list exports through (notices/exports.py), read back as a spreadsheet would."""

from __future__ import annotations

import csv
import datetime
import io

from openpyxl import load_workbook

from notices import exports

HEADER = ["tên", "thời điểm"]
ROWS = [["=1+1", datetime.datetime(2026, 3, 4, 5, 6, 7)], ["Phường Ba Đình", None]]


def test_the_csv_starts_with_a_bom_escapes_formulas_and_writes_times_plainly():
    response = exports.response("csv", "danh-sach", HEADER, iter(ROWS))
    assert response["Content-Disposition"] == 'attachment; filename="danh-sach.csv"'
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows == [HEADER, ["'=1+1", "2026-03-04 05:06:07"], ["Phường Ba Đình", ""]]


def test_the_xlsx_has_a_bold_frozen_header_sized_columns_and_escaped_cells():
    long = "x" * 500
    response = exports.response("xlsx", "danh-sach", HEADER, iter([*ROWS, [long, None]]))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [c.value for c in sheet[1]] == HEADER and all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2" and sheet.cell(row=2, column=1).value == "'=1+1"
    assert sheet.column_dimensions["A"].width == exports.MAX_WIDTH
    assert exports.column_widths([["ab"]]) == [exports.MIN_WIDTH]
