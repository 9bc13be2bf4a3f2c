"""Helpers that build directory spreadsheets the way Excel and other offices produce them, and run their import."""

from __future__ import annotations

import csv
import io
import itertools
import struct
import unicodedata
import zipfile
from collections.abc import Iterable

import openpyxl
import pytest

from recipients.importing import import_directory
from recipients.tabular import ImportFileError, Limits, parse_table

HEADER = ["name", "kind", "level", "area", "bhxh_code", "tax_code", "emails", "phone", "valid_from", "valid_to"]
TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def employer(i: int, **overrides) -> dict:
    row = {
        "name": f"Công ty TNHH Thương mại Hồng Hà {i}",
        "kind": "employer",
        "level": "city",
        "area": "Đống Đa",
        "bhxh_code": f"TB{i:05d}X",
        "tax_code": f"01{i:08d}",
        "emails": f"nhansu{i}@honghà{i % 7}.example.com".replace("à", "a"),
        "phone": "024 3800 0000",
    }
    return {**row, **overrides}


def csv_text(rows: list[dict], header: list[str] = HEADER, delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([row.get(key, "") for key in header] for row in rows)
    return buffer.getvalue()


def csv_bytes(rows: list[dict], header: list[str] = HEADER, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    return csv_text(rows, header, delimiter).encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def encode_cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: precomposed vowels where the code page has them, tone marks combining."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS))
            out.append((base + "".join(c for c in parts if c in TONE_MARKS)).encode("cp1258"))
    return b"".join(out)


@pytest.fixture
def import_file(tmp_path):
    """Write bytes to a file in the test's folder and return its path."""

    def write(data: bytes, name: str = "directory.csv"):
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write


SHEET = "xl/worksheets/sheet1.xml"
SHEET_XML = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{}<sheetData>{}</sheetData></worksheet>'


def replace_parts(workbook: bytes, parts: dict[str, bytes | Iterable[bytes]]) -> bytes:
    """Return the workbook with some of its parts replaced (a part given as chunks is streamed in)."""
    source, buffer = zipfile.ZipFile(io.BytesIO(workbook)), io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name in [*source.namelist(), *(name for name in parts if name not in source.namelist())]:
            content = parts[name] if name in parts else source.read(name)
            with target.open(name, "w") as stream:
                for chunk in [content] if isinstance(content, bytes) else content:
                    stream.write(chunk)
    return buffer.getvalue()


def xlsx_with_sheet(rows_xml: str | Iterable[bytes], before_data: str = "") -> bytes:
    """Return a workbook whose first worksheet is the given <sheetData> content (text, or chunks of bytes)."""
    if isinstance(rows_xml, str):
        return replace_parts(xlsx_bytes([["x"]]), {SHEET: SHEET_XML.format(before_data, rows_xml).encode()})
    head, tail = SHEET_XML.format(before_data, "\0").encode().split(b"\0")
    return replace_parts(xlsx_bytes([["x"]]), {SHEET: itertools.chain([head], rows_xml, [tail])})


def declare_size(workbook: bytes, name: str, size: int) -> bytes:
    """Return the workbook with the inflated size `name` declares (local header and central directory) set to `size`."""
    archive = zipfile.ZipFile(io.BytesIO(workbook))
    info, central = archive.getinfo(name), archive.start_dir
    data = bytearray(workbook)
    struct.pack_into("<I", data, info.header_offset + 22, size)
    while True:
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + name_length]) == name.encode():
            struct.pack_into("<I", data, central + 24, size)
            return bytes(data)
        extra, comment = struct.unpack_from("<HH", data, central + 30)
        central = central + 46 + name_length + extra + comment


SMALL = Limits(rows=50, columns=20, cell_chars=300, inflated_bytes=2 * 1024 * 1024)


def refusal(data: bytes, name: str = "danh-ba.xlsx", limits: Limits | None = None) -> str:
    """Return the message parse_table refuses the file with (the test fails if it reads the file)."""
    with pytest.raises(ImportFileError) as refused:
        parse_table(data, name, limits)
    return str(refused.value)


def run(data: bytes, name: str = "directory.csv", **options):
    """Import the file into the directory and return the import's summary."""
    return import_directory(data, name, **options)


def only_error(summary) -> tuple[int, str, str]:
    """Return the row, column and message of the summary's one error (the test fails if there are more)."""
    (error,) = summary.errors
    return error.row, error.column, error.message


IMPORT_URL = "admin:recipients_organization_import"


@pytest.fixture
def clerk_client(client, clerk):
    """The test client, logged in as the records clerk."""
    client.force_login(clerk)
    return client
