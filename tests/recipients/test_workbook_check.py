"""The XLSX archive checked before a parser unpacks it (recipients/workbook_check.py): extents, sizes, damage."""

from __future__ import annotations

import io
import zipfile

import pytest

from recipients.tabular import parse_table
from tests.recipients.conftest import (
    HEADER,
    SHEET,
    SMALL,
    declare_size,
    employer,
    refusal,
    replace_parts,
    xlsx_bytes,
    xlsx_with_sheet,
)


def cells(count: int, row: int = 1) -> str:
    return "".join(f'<c r="{letters(i)}{row}" t="inlineStr"><is><t>v</t></is></c>' for i in range(1, count + 1))


def letters(number: int) -> str:
    text = ""
    while number:
        number, rest = divmod(number - 1, 26)
        text = chr(65 + rest) + text
    return text


def test_a_worksheet_declaring_the_whole_grid_is_refused_before_it_is_unpacked():
    data = xlsx_with_sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>',
                           before_data='<dimension ref="A1:XFD1048576"/>')  # fmt: skip
    assert len(data) < 5000
    assert "more than 100 columns" in refusal(data)


def test_a_declared_extent_is_held_to_the_configured_limits():
    rows = f'<row r="1">{cells(3)}</row>'
    assert parse_table(xlsx_with_sheet(rows, '<dimension ref="A1:T50"/>'), "a.xlsx", SMALL)[0] == ["v", "v", "v"]
    assert "more than 20 columns" in refusal(xlsx_with_sheet(rows, '<dimension ref="A1:U1"/>'), limits=SMALL)
    assert "more than 50 rows" in refusal(xlsx_with_sheet(rows, '<dimension ref="A1:C51"/>'), limits=SMALL)


@pytest.mark.parametrize(
    ("rows", "refused"),
    [
        ('<row r="1"><c r="A1"><v>1</v></c><c r="XFD1048576"><v>1</v></c></row>', "columns"),
        ('<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="A1048576"><v>1</v></c></row>', "rows"),
        ('<row r="1048576"><c><v>1</v></c></row>', "rows"),
        ('<row r="1"><c t="n" r="U1"><v>1</v></c></row>', "columns"),
        ("<row><c><v>1</v></c></row>" * 10 + "<row>" + "<c><v>1</v></c>" * 21 + "</row>", "columns"),
    ],
)
def test_cells_referenced_far_apart_are_refused_without_a_dimension(rows, refused):
    assert f"more than {'20 columns' if refused == 'columns' else '50 rows'}" in refusal(
        xlsx_with_sheet(rows), limits=SMALL
    )


def test_four_million_rows_in_a_small_workbook_are_refused_at_the_row_limit():
    row = b"<row><c><v>1</v></c></row>"
    data = xlsx_with_sheet(row * 100_000 for _ in range(40))
    assert len(data) < 3 * 1024 * 1024
    assert "more than 200000 rows" in refusal(data)


def test_the_last_row_and_column_within_the_limits_are_read():
    rows = "".join(f'<row r="{r}">{cells(20, r)}</row>' for r in range(1, 51))
    table = parse_table(xlsx_with_sheet(rows), "a.xlsx", SMALL)
    assert len(table) == 50 and {len(row) for row in table} == {20}


def test_a_zip_bomb_is_refused_by_its_inflated_size():
    bomb = replace_parts(xlsx_bytes([["name"]]), {"xl/sharedStrings.xml": (b"\0" * 1024 * 1024 for _ in range(3))})
    assert len(bomb) < 20_000
    assert "unpacks to more than 2 MB" in refusal(bomb, limits=SMALL)


def test_a_part_that_inflates_beyond_the_size_it_declares_is_refused():
    data = replace_parts(xlsx_bytes([["name"]]), {"xl/sharedStrings.xml": b"<sst>" + b" " * 3_000_000 + b"</sst>"})
    assert "not a readable .xlsx" in refusal(declare_size(data, "xl/sharedStrings.xml", 100), limits=SMALL)


def test_a_corrupt_deflate_stream_is_refused():
    data = bytearray(xlsx_bytes([HEADER, list(employer(1).values())]))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(SHEET)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start : start + 40] = b"\xff" * 40
    assert "not a readable .xlsx" in refusal(bytes(data))


@pytest.mark.parametrize("data", [b"PK\x03\x04" + b"\x00" * 100, b"PK\x05\x06" + b"\x00" * 18, b"PK\x03\x04"])
def test_a_truncated_or_empty_archive_is_refused(data):
    assert "not a readable .xlsx" in refusal(data)


def test_an_encrypted_part_is_refused():
    data = bytearray(xlsx_bytes([["name"]]))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    for info in archive.infolist():  # set the "encrypted" flag of every part, in both headers
        data[info.header_offset + 6] |= 1
    central = archive.start_dir
    while data[central : central + 4] == b"PK\x01\x02":
        data[central + 8] |= 1
        lengths = int.from_bytes(data[central + 28 : central + 30], "little") + int.from_bytes(
            data[central + 30 : central + 32], "little") + int.from_bytes(data[central + 32 : central + 34], "little")  # fmt: skip
        central += 46 + lengths
    assert "not a readable .xlsx" in refusal(bytes(data))
