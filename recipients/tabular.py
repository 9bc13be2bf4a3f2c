"""Read the rows of an uploaded CSV or XLSX file, whatever encoding an old Excel export left it in."""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import unicodedata
from collections.abc import Iterator

import charset_normalizer
import python_calamine
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

RESAVE_HINT = gettext_lazy(
    "In Excel: File → Save As → “CSV UTF-8 (Comma delimited) (*.csv)” or “Excel Workbook (*.xlsx)”."
)
# Letters that only Windows-1258 (Vietnamese) puts in these byte positions, and its combining tone marks.
VIETNAMESE_SIGNS = set("ăâđêôơưĂÂĐÊÔƠƯ\u0300\u0301\u0303\u0309\u0323")
LEGACY_CODE_PAGES = ["cp1258", "cp1252", "cp1250", "cp1251", "cp1254", "cp1257"]
MAX_CHAOS = 0.2


class ImportFileError(Exception):
    """The file cannot be read as a directory spreadsheet; the message tells the user what to do."""


def read_table(data: bytes, filename: str) -> Iterator[list]:
    """Yield the rows of a CSV or XLSX file as lists of cell values (the header row first)."""
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return read_xlsx(data)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFileError(_("Old Excel 97–2003 (.xls) files cannot be read. %(hint)s") % {"hint": RESAVE_HINT})
    return read_csv(decode(data))


def read_xlsx(data: bytes) -> Iterator[list]:
    """Yield the rows of the first worksheet.

    calamine (Rust) parses a 100,000-row sheet about twenty times faster than openpyxl's
    read-only mode, which alone took most of the one-minute budget for such an import.
    """
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
    except (python_calamine.CalamineError, IndexError, OSError, ValueError) as exc:
        raise ImportFileError(_("This is not a readable .xlsx workbook (%(error)s). %(hint)s") % {
            "error": exc, "hint": RESAVE_HINT}) from exc  # fmt: skip
    return _xlsx_rows(workbook, sheet)


def _xlsx_rows(workbook, sheet) -> Iterator[list]:
    try:
        for row in sheet.iter_rows():
            yield [_xlsx_cell(value) for value in row]
    finally:
        workbook.close()


def _xlsx_cell(value):
    """Return a cell as text, keeping dates as dates and whole numbers without ".0"."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else str(value)
    return _nfc(str(value))


def decode(data: bytes) -> str:
    """Return the file's text in NFC: UTF-8 (with or without BOM), UTF-16 with BOM, or a detected legacy code page."""
    if data.startswith(codecs.BOM_UTF8):
        return _nfc(data[3:].decode("utf-8", errors="strict"))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _nfc(data.decode("utf-16"))
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                _("The file says it is UTF-16 but is damaged. %(hint)s") % {"hint": RESAVE_HINT}
            ) from exc
    try:
        return _nfc(data.decode("utf-8"))
    except UnicodeDecodeError:
        return _nfc(decode_legacy(data))


def decode_legacy(data: bytes) -> str:
    """Return text in an old Windows code page: Vietnamese (1258) when its letters appear, else the best guess."""
    if b"\x00" in data:
        raise ImportFileError(_("This file is not a text (CSV) file. %(hint)s") % {"hint": RESAVE_HINT})
    vietnamese = data.decode("cp1258", errors="replace")
    if VIETNAMESE_SIGNS.intersection(vietnamese):
        return vietnamese
    guess = charset_normalizer.from_bytes(data, cp_isolation=LEGACY_CODE_PAGES).best()
    if guess is None or guess.chaos > MAX_CHAOS:
        raise ImportFileError(
            _("The file's character encoding could not be recognised. %(hint)s") % {"hint": RESAVE_HINT}
        )
    return str(guess)


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def read_csv(text: str) -> Iterator[list]:
    """Yield the rows of CSV text, with the delimiter (comma, semicolon or tab) taken from the header line."""
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
