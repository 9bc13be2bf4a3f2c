"""Hostile and damaged files: each is refused with a message, never parsed without limits."""

from __future__ import annotations

import pytest

from recipients.importing import import_directory
from recipients.models import Organization
from recipients.tabular import ImportFileError, parse_table
from tests.recipients.conftest import (
    SMALL,
    csv_bytes,
    employer,
    refusal,
)


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
