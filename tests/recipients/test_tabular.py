"""Hostile and damaged files: each is refused with a message, never parsed without limits."""

from __future__ import annotations

import io
import zipfile

import pytest

from recipients.importing import import_directory
from recipients.models import Organization
from recipients.tabular import ImportFileError, Limits, parse_table
from tests.recipients.conftest import (
    HEADER,
    SHEET,
    csv_bytes,
    declare_size,
    employer,
    replace_parts,
    xlsx_bytes,
    xlsx_with_sheet,
)

SMALL = Limits(rows=50, columns=20, cell_chars=300, inflated_bytes=2 * 1024 * 1024)


def refusal(data: bytes, name: str = "danh-ba.xlsx", limits: Limits | None = None) -> str:
    with pytest.raises(ImportFileError) as refused:
        parse_table(data, name, limits)
    return str(refused.value)


def cells(count: int, row: int = 1) -> str:
    return "".join(f'<c r="{letters(i)}{row}" t="inlineStr"><is><t>v</t></is></c>' for i in range(1, count + 1))


def letters(number: int) -> str:
    text = ""
    while number:
        number, rest = divmod(number - 1, 26)
        text = chr(65 + rest) + text
    return text


# --- XLSX: what the worksheet declares and references -----------------------------------------
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


# --- XLSX: the archive ------------------------------------------------------------------------
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


# --- CSV --------------------------------------------------------------------------------------
def test_a_csv_cell_of_200000_characters_is_refused_with_its_row():
    data = csv_bytes([employer(1), employer(2, name="x" * 200_000)])
    assert "Row 3 cannot be read: a cell is longer than 10000 characters" in refusal(data, "danh-ba.csv")


def test_a_cell_beyond_the_cell_limit_is_refused_with_its_row_and_length():
    data = csv_bytes([employer(1, name="x" * 301)])
    assert refusal(data, "a.csv", SMALL) == "Row 2 has a cell of 301 characters; a cell may hold at most 300."
    assert parse_table(csv_bytes([employer(1, name="x" * 300)]), "a.csv", SMALL)[1][0] == "x" * 300


def test_an_unclosed_quote_is_refused_not_read_as_one_giant_cell():
    data = csv_bytes([employer(1)]) + b'"' + b"x," * 80_000
    assert "a quotation mark is not closed" in refusal(data, "danh-ba.csv")


def test_rows_and_columns_beyond_the_limits_are_refused():
    assert "more than 50 rows" in refusal(csv_bytes([employer(i) for i in range(50)]), "a.csv", SMALL)
    assert len(parse_table(csv_bytes([employer(i) for i in range(49)]), "a.csv", SMALL)) == 50
    wide = ",".join(["name"] * 21).encode() + b"\r\n"
    assert "more than 20 columns" in refusal(wide, "a.csv", SMALL)
    padded = b"name,kind" + b"," * 40 + b"\r\n"  # Excel pads rows with empty cells
    assert parse_table(padded, "a.csv", SMALL) == [["name", "kind"]]


def test_a_file_that_claims_utf8_but_is_not_is_refused():
    assert "says it is UTF-8 but is damaged" in refusal(b"\xef\xbb\xbfname,kind\r\n\xff\xfe\xfa", "a.csv")


# --- The limits come from the settings, and the import reports them ---------------------------
@pytest.mark.django_db
def test_the_import_refuses_a_file_beyond_the_configured_rows_and_writes_nothing(settings):
    settings.DIRECTORY_IMPORT_MAX_ROWS = 10
    with pytest.raises(ImportFileError, match="more than 10 rows"):
        import_directory(csv_bytes([employer(i) for i in range(10)]), "a.csv")
    assert not Organization.objects.exists()
    assert import_directory(csv_bytes([employer(i) for i in range(9)]), "a.csv").created == 9
