"""Streaming CSV and XLSX exports of any row source, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import datetime
import tempfile
from collections.abc import Iterable, Iterator

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook

from recipients.cells import escape_cell

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    """Return an XLSX download written row by row (openpyxl write-only) to a temporary file."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(filename[:31])
    sheet.append([safe_cell(h) for h in header])
    for row in rows:
        sheet.append([safe_cell(value) for value in row])
    spool = tempfile.TemporaryFile()
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=f"{filename}.xlsx", content_type=XLSX_TYPE)


def response(fmt: str, filename: str, header: list[str], rows: Iterable[Iterable]):
    """Return the CSV or XLSX download of `rows` for `fmt` ("csv" or "xlsx")."""
    if fmt == "xlsx":
        return xlsx_response(filename, header, rows)
    return csv_response(filename, header, rows)
