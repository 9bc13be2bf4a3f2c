"""Export the directory as CSV or XLSX with the import's columns, so an export re-imports unchanged."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import openpyxl
from django.db.models import Prefetch

from recipients.cells import escape_cell
from recipients.columns import COLUMN_KEYS, COLUMNS
from recipients.models import Organization, OrganizationEmail

EXAMPLE_ROW = {
    "name": "Công ty TNHH Thương mại Sông Hồng",
    "kind": "employer",
    "level": "city",
    "area": "Đống Đa",
    "bhxh_code": "TA0001A",
    "tax_code": "0100000001",
    "emails": "nhansu@songhong.example.com; ketoan@songhong.example.com",
    "phone": "024 3800 0001",
    "tags": "fdi",
    "active": "1",
}


def organization_cells(org: Organization) -> list[str]:
    """Return one organisation as the import's columns, primary address first."""
    emails = sorted(org.emails.all(), key=lambda e: (not e.primary, e.pk))
    values = {key: getattr(org, key, "") for key in COLUMN_KEYS}
    values["emails"] = "; ".join(e.address for e in emails)
    values["valid_from"] = org.valid_from.isoformat() if org.valid_from else ""
    values["valid_to"] = org.valid_to.isoformat() if org.valid_to else ""
    values["active"] = "1" if org.active else "0"
    return [escape_cell(str(values[key])) for key in COLUMN_KEYS]


def export_rows(queryset=None) -> Iterator[list[str]]:
    """Yield the header row, then one row per organisation (streamed, addresses fetched per chunk)."""
    queryset = Organization.objects.all() if queryset is None else queryset
    emails = Prefetch("emails", queryset=OrganizationEmail.objects.order_by("pk"))
    yield COLUMN_KEYS
    for org in queryset.order_by("pk").prefetch_related(emails).iterator(chunk_size=2000):
        yield organization_cells(org)


def to_csv(rows: Iterator[list[str]]) -> bytes:
    """Return CSV in UTF-8 with a BOM, which Excel opens with the Vietnamese letters intact."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def to_xlsx(rows: Iterator[list[str]]) -> bytes:
    """Return an XLSX workbook written in streaming mode, every cell as text."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("directory")
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_directory(queryset=None, fmt: str = "csv") -> bytes:
    """Return the organisations of `queryset` (all by default) as "csv" or "xlsx"."""
    rows = export_rows(queryset)
    return to_xlsx(rows) if fmt == "xlsx" else to_csv(rows)


def template_xlsx() -> bytes:
    """Return the import template: the columns, one example row, and a sheet explaining each column."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook starts with one sheet
    sheet.title = "directory"
    sheet.append(COLUMN_KEYS)
    sheet.append([escape_cell(EXAMPLE_ROW.get(key, "")) for key in COLUMN_KEYS])
    help_sheet = workbook.create_sheet("columns")
    for column in COLUMNS:
        help_sheet.append([column.key, "*" if column.required else "", str(column.help)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
