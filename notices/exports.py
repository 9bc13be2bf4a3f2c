"""Streaming CSV and XLSX exports of any row source, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import datetime
import itertools
import tempfile
from collections.abc import Iterable, Iterator

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from recipients.cells import escape_cell

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SIZING_ROWS = 200  # column widths follow the header and the first rows (the rest streams through)
MIN_WIDTH, MAX_WIDTH = 8, 60


def safe_cell(value):
    """Return `value` ready for a spreadsheet: local times without zone, text that cannot start a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, int | float | datetime.date):
        return value
    return escape_cell(str(value))


class Echo:
    """A file-like object whose write() returns what it was given, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    writer = csv.writer(Echo())
    yield "\ufeff"  # a BOM, so Excel reads the Vietnamese text as UTF-8
    yield writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        yield writer.writerow([format_csv(safe_cell(value)) for value in row])


def format_csv(value) -> str:
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> StreamingHttpResponse:
    """Return a streaming CSV download of `rows` under `header`."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> FileResponse:
    """Return an XLSX download written row by row (openpyxl write-only) to a temporary file.

    The header is bold and frozen, and each column is as wide as its header or its widest early value.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(filename[:31])
    rows = iter(rows)
    first = [[safe_cell(value) for value in row] for row in itertools.islice(rows, SIZING_ROWS)]
    for index, width in enumerate(column_widths([header, *first]), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([bold_cell(sheet, safe_cell(h)) for h in header])
    for row in itertools.chain(first, ([safe_cell(value) for value in row] for row in rows)):
        sheet.append(row)
    spool = tempfile.TemporaryFile()
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=f"{filename}.xlsx", content_type=XLSX_TYPE)


def bold_cell(sheet, value) -> Cell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = Font(bold=True)
    return cell


def column_widths(rows: list[list]) -> list[float]:
    """Return a width per column: the longest text shown in it, within MIN_WIDTH and MAX_WIDTH."""
    widths: list[float] = []
    for row in rows:
        for index, value in enumerate(row):
            length = len(format_csv(value)) + 2
            if index == len(widths):
                widths.append(MIN_WIDTH)
            widths[index] = min(MAX_WIDTH, max(widths[index], length))
    return widths


def response(fmt: str, filename: str, header: list[str], rows: Iterable[Iterable]):
    """Return the CSV or XLSX download of `rows` for `fmt` ("csv" or "xlsx")."""
    if fmt == "xlsx":
        return xlsx_response(filename, header, rows)
    return csv_response(filename, header, rows)
