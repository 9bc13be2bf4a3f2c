"""Validate the rows of a directory file: its header, and each row's cells into clean organisation fields or errors."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from email_validator import EmailNotValidError

from recipients.addresses import check_address
from recipients.cells import unescape_cell
from recipients.columns import COLUMNS, HEADERS, header_key
from recipients.models import OrganizationKind, OrganizationLevel, normalize_tags
from recipients.tabular import ImportFileError

TAX_CODE = re.compile(r"^\d{10}(-\d{3})?$")
EMAIL_SEPARATORS = re.compile(r"[;,\s]+")
TRUE_WORDS = {"1", "yes", "true", "x", "có", "co"}
FALSE_WORDS = {"0", "no", "false", "không", "khong"}
UNKNOWN_KIND = gettext_lazy("Unknown kind “%(value)s”; use one of: %(choices)s.")
UNKNOWN_LEVEL = gettext_lazy("Unknown level “%(value)s”; use one of: %(choices)s.")
FIELD_COLUMNS = [c.key for c in COLUMNS if c.key != "emails"]
ALIASES = {
    "kind": {"bhxh cơ sở": "bhxh", "công an": "police", "ubnd": "committee", "sở": "department",
             "doanh nghiệp": "employer", "đơn vị sử dụng lao động": "employer", "đại lý thu": "agent"},
    "level": {"thành phố": "city", "quận": "district", "huyện": "district", "xã": "commune", "phường": "commune"},
}  # fmt: skip


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.column + ': ' if self.column else ''}{self.message}"


@dataclass
class CleanRow:
    row: int
    fields: dict
    emails: list[str]


def choice_map(choices, name: str) -> dict[str, str]:
    """Return every accepted spelling of a choice (code, English and Vietnamese labels, aliases) -> code."""
    accepted = {header_key(value): value for value in choices.values}
    for language in ("en", "vi"):
        with translation.override(language):
            accepted.update({header_key(str(label)): value for value, label in choices.choices})
    accepted.update({header_key(alias): value for alias, value in ALIASES[name].items()})
    return accepted


class RowValidator:
    """Turn one row of cells into clean organisation fields and addresses, or row-level errors."""

    def __init__(self, header: list[str], default_kind: str = "") -> None:
        self.header = header
        self.default_kind = default_kind
        self.kinds = choice_map(OrganizationKind, "kind")
        self.levels = choice_map(OrganizationLevel, "level")
        self.limits = {c.key: c.max_length for c in COLUMNS if c.max_length}

    def clean(self, number: int, cells: list) -> tuple[CleanRow, list[RowError]]:
        """Return the row's clean values (only those that are valid when the row has errors) and its errors."""
        values = {key: unescape(cells[i] if i < len(cells) else "") for i, key in enumerate(self.header) if key}
        errors: list[RowError] = []
        fields = {}
        for key in FIELD_COLUMNS:
            if key in values:
                try:
                    fields[key] = self.clean_value(key, values[key])
                except ValueError as exc:
                    errors.append(RowError(number, key, str(exc)))
        if not fields.get("kind"):
            if self.default_kind:
                fields["kind"] = self.default_kind
            elif "kind" not in [e.column for e in errors]:
                errors.append(RowError(number, "kind", _("A kind is required.")))
        emails, email_errors = clean_emails(values.get("emails", ""))
        errors += [RowError(number, "emails", message) for message in email_errors]
        errors += self.check_row(number, fields)
        return CleanRow(number, fields, emails), errors

    def clean_value(self, key: str, value):
        """Return one clean value, or raise ValueError with the message for the user."""
        if key in ("valid_from", "valid_to"):
            return parse_date(value)
        if key == "active":
            return parse_bool(value)
        text = " ".join(str(value).split())
        if key == "tax_code" and isinstance(value, int):
            text = text.zfill(10)  # Excel drops the leading zero of a tax code typed as a number
        if len(text) > self.limits.get(key, 10**6):
            raise ValueError(_("Too long: %(length)d characters, at most %(max)d.") % {
                "length": len(text), "max": self.limits[key]})  # fmt: skip
        return self.clean_text(key, text)

    def clean_text(self, key: str, text: str) -> str:
        if key == "kind" and text:
            return self.pick(self.kinds, text, UNKNOWN_KIND)
        if key == "level":
            return self.pick(self.levels, text, UNKNOWN_LEVEL) if text else "city"
        if key == "tax_code" and text and not TAX_CODE.match(text):
            raise ValueError(_("A tax code has 10 digits, or 10 digits, a hyphen and 3 digits (“%(value)s”).") % {
                "value": text})  # fmt: skip
        if key in ("bhxh_code", "agency_code"):
            return text.upper()
        return normalize_tags(text) if key == "tags" and text else text

    def pick(self, accepted: dict[str, str], text: str, message) -> str:
        """Return the code of a choice written any accepted way, or raise ValueError with `message`."""
        value = accepted.get(text) or accepted.get(header_key(text))
        if value is None:
            choices = ", ".join(sorted(set(accepted.values())))
            raise ValueError(message % {"value": text, "choices": choices})
        return value

    def check_row(self, number: int, fields: dict) -> list[RowError]:
        """Return the errors that involve several columns of the row."""
        errors = []
        if "name" in fields and not fields["name"]:
            errors.append(RowError(number, "name", _("A name is required.")))
        start, end = fields.get("valid_from"), fields.get("valid_to")
        if start and end and end < start:
            errors.append(RowError(number, "valid_to", _("The end of validity is before its start.")))
        return errors


def unescape(value):
    """Return a cell without surrounding spaces and without the apostrophe the export added."""
    return unescape_cell(value.strip()) if isinstance(value, str) else value


def clean_emails(cell: str) -> tuple[list[str], list[str]]:
    """Return the cell's addresses (trimmed, lower-cased, de-duplicated, first = primary) and the errors."""
    addresses, errors = [], []
    for raw in EMAIL_SEPARATORS.split(str(cell).strip()):
        address = raw.strip().lower()
        if not address or address in addresses:
            continue
        try:
            check_address(address)
            addresses.append(address)
        except EmailNotValidError as exc:
            errors.append(_("“%(address)s” is not a valid email address: %(reason)s") % {
                "address": raw, "reason": exc})  # fmt: skip
    if not addresses and not errors:
        errors.append(_("At least one email address is required."))
    return addresses, errors


def parse_date(value) -> datetime.date | None:
    """Return a date from a spreadsheet date, "YYYY-MM-DD" or "DD/MM/YYYY"; None when empty."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(_("“%(value)s” is not a date; write YYYY-MM-DD or DD/MM/YYYY.") % {"value": text})


def parse_bool(value) -> bool:
    """Return the "active" flag: 1/0, yes/no, có/không; True when empty."""
    text = str(value).strip().casefold()
    if not text or text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(_("“%(value)s” is not yes or no; write 1 or 0.") % {"value": value})


def read_header(rows: Iterator[list], default_kind: str) -> tuple[list[str], list[str]]:
    """Return the column key of each header cell ('' for ignored ones) and the ignored headers."""
    first = next(rows, None)
    if first is None:
        raise ImportFileError(_("The file is empty."))
    header = [HEADERS.get(header_key(cell), "") for cell in first]
    named = [key for key in header if key]
    duplicates = sorted({key for key in named if named.count(key) > 1})
    if duplicates:
        raise ImportFileError(_("These columns appear twice: %(columns)s.") % {"columns": ", ".join(duplicates)})
    ignored = [str(cell) for cell, key in zip(first, header, strict=True) if not key and str(cell).strip()]
    required = [c.key for c in COLUMNS if c.required and not (c.key == "kind" and default_kind)]
    missing = [key for key in required if key not in header]
    if missing:
        message = _("Missing required columns: %(columns)s. The first row must name the columns, as in the template file.") % {
            "columns": ", ".join(missing)}  # fmt: skip
        if ignored:
            message += " " + _("Columns not recognised: %(columns)s.") % {"columns": ", ".join(ignored)}
        raise ImportFileError(message)
    return header, ignored
