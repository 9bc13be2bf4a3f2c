"""Read the rows of an uploaded CSV or XLSX file, whatever encoding an old Excel export left it in, within limits.

The file comes from outside: a workbook is checked before calamine unpacks it (its declared and actual inflated sizes,
the extent its worksheets declare and reference, their rows), and every row is checked against the limits as it is
read, so a hostile file is refused with a message instead of taking the server's memory or time. `parse_table` takes
and returns plain data, so that it can run in a child process with memory and time limits.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import charset_normalizer
import python_calamine
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from recipients.workbook_check import BeyondLimit, check_workbook

RESAVE_HINT = gettext_lazy(
    "In Excel: File → Save As → “CSV UTF-8 (Comma delimited) (*.csv)” or “Excel Workbook (*.xlsx)”."
)
# Letters that only Windows-1258 (Vietnamese) puts in these byte positions, and its combining tone marks.
VIETNAMESE_SIGNS = set("ăâđêôơưĂÂĐÊÔƠƯ\u0300\u0301\u0303\u0309\u0323")
LEGACY_CODE_PAGES = ["cp1258", "cp1252", "cp1250", "cp1251", "cp1254", "cp1257"]
MAX_CHAOS = 0.2
# What zipfile and zlib raise on a damaged or unsupported archive (encrypted: RuntimeError; deflate64: NotImplemented).
ARCHIVE_ERRORS = (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError, NotImplementedError, ValueError)


class ImportFileError(Exception):
    """The file cannot be read as a directory spreadsheet; the message tells the user what to do."""


@dataclass(frozen=True)
class Limits:
    """What an uploaded file may hold (rows count the header row); beyond it the file is refused."""

    rows: int = 200_000
    columns: int = 100
    cell_chars: int = 10_000
    inflated_bytes: int = 300 * 1024 * 1024

    @classmethod
    def from_settings(cls) -> Limits:
        """Return the limits set by the DIRECTORY_IMPORT_MAX_* settings."""
        return cls(
            rows=settings.DIRECTORY_IMPORT_MAX_ROWS,
            columns=settings.DIRECTORY_IMPORT_MAX_COLUMNS,
            cell_chars=settings.DIRECTORY_IMPORT_MAX_CELL_CHARS,
            inflated_bytes=settings.DIRECTORY_IMPORT_MAX_INFLATED_MB * 1024 * 1024,
        )


def beyond(limit: str, limits: Limits) -> ImportFileError:
    """Return the refusal of a file beyond one of the `limits` ("rows", "columns" or "size")."""
    messages = {
        "rows": _("The file has more than %(rows)d rows; split it into several files."),
        "columns": _("The file uses more than %(columns)d columns; keep only the template's columns (and delete any formatted but empty columns or rows after the data)."),
        "size": _("The workbook unpacks to more than %(megabytes)d MB; split it into several files."),
    }  # fmt: skip
    values = {"rows": limits.rows, "columns": limits.columns, "megabytes": limits.inflated_bytes // (1024 * 1024)}
    return ImportFileError(messages[limit] % values)


def parse_table(data: bytes, filename: str, limits: Limits | None = None) -> list[list]:
    """Return every row of a CSV or XLSX file (the header row first) as plain values; raise ImportFileError.

    Plain arguments and a plain result (text, numbers, dates), so it can run in a child process.
    """
    return list(read_table(data, filename, limits))


def read_table(data: bytes, filename: str, limits: Limits | None = None) -> Iterator[list]:
    """Yield the rows of a CSV or XLSX file as lists of cell values (the header row first), within `limits`."""
    limits = limits or Limits.from_settings()
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return within(read_xlsx(data, limits), limits)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFileError(_("Old Excel 97–2003 (.xls) files cannot be read. %(hint)s") % {"hint": RESAVE_HINT})
    return within(read_csv(decode(data), limits), limits)


def within(rows: Iterable[list], limits: Limits) -> Iterator[list]:
    """Yield `rows`, refusing the file at the first row beyond the row, column or cell-size limit."""
    for number, row in enumerate(rows, start=1):
        if number > limits.rows:
            raise beyond("rows", limits)
        if len(row) > limits.columns:
            while row and row[-1] in ("", None):  # Excel's CSV pads rows with empty cells
                row.pop()
            if len(row) > limits.columns:
                raise beyond("columns", limits)
        longest = max((len(cell) for cell in row if isinstance(cell, str)), default=0)
        if longest > limits.cell_chars:
            raise ImportFileError(_("Row %(row)d has a cell of %(length)d characters; a cell may hold at most %(max)d.") % {
                "row": number, "length": longest, "max": limits.cell_chars})  # fmt: skip
        yield row


def read_xlsx(data: bytes, limits: Limits) -> Iterator[list]:
    """Yield the rows of the first worksheet, once the workbook is known to fit within `limits`.

    calamine (Rust) parses a 100,000-row sheet about twenty times faster than openpyxl's
    read-only mode, which alone took most of the one-minute budget for such an import.
    """
    try:
        check_workbook(data, limits.rows, limits.columns, limits.inflated_bytes)
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
    except BeyondLimit as exc:
        raise beyond(exc.args[0], limits) from exc
    except (python_calamine.CalamineError, IndexError, *ARCHIVE_ERRORS) as exc:
        raise unreadable_workbook(exc) from exc
    if sheet.total_height > limits.rows or sheet.total_width > limits.columns:
        raise beyond("rows" if sheet.total_height > limits.rows else "columns", limits)
    return _xlsx_rows(workbook, sheet)


def unreadable_workbook(exc: Exception) -> ImportFileError:
    return ImportFileError(_("This is not a readable .xlsx workbook (%(error)s). %(hint)s") % {
        "error": exc, "hint": RESAVE_HINT})  # fmt: skip


def _xlsx_rows(workbook, sheet) -> Iterator[list]:
    try:
        for row in sheet.iter_rows():
            yield [_xlsx_cell(value) for value in row]
    except python_calamine.CalamineError as exc:
        raise unreadable_workbook(exc) from exc
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
        try:
            return _nfc(data[3:].decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                _("The file says it is UTF-8 but is damaged. %(hint)s") % {"hint": RESAVE_HINT}
            ) from exc
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


def read_csv(text: str, limits: Limits) -> Iterator[list]:
    """Yield the rows of CSV text, with the delimiter (comma, semicolon or tab) taken from the header line."""
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as exc:  # with newline="" and strict off, only a field beyond csv's own size limit
        message = _(
            "Row %(row)d cannot be read: a cell is longer than %(max)d characters, or a quotation mark is not closed. %(hint)s"
        )
        raise ImportFileError(
            message % {"row": reader.line_num, "max": limits.cell_chars, "hint": RESAVE_HINT}
        ) from exc
