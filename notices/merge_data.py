"""Read a merge data file (CSV or XLSX) into one record per organisation, and check it against the templates.

The file is read by the directory's tabular reader in the sandbox (same encodings, limits and errors); its headers
become field names ("Số tiền nợ" -> so_tien_no); rows repeating a code form that organisation's table, and the
first row's values are its fields.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from config import sandbox
from notices import storage, templating
from notices.models import AuditEvent, MatchKey, MergeFile, MergeRecord
from recipients.columns import HEADERS, header_key
from recipients.models import Organization
from recipients.tabular import ImportFileError, Limits

RESERVED = {
    *(templating.BUILTIN_NAMES - {"ten_don_vi"}),
    "true",
    "false",
    "none",
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
}


def field_name(header) -> str:
    """Return the template name of a column ("Số tiền nợ" -> "so_tien_no")."""
    name = re.sub(r"[^a-z0-9_]", "", header_key(header).replace(" ", "_"))
    return f"cot_{name}" if name[:1].isdigit() else name


def plain(value):
    """Return a cell as JSON data (dates as ISO text)."""
    return value.isoformat()[:10] if isinstance(value, datetime.date) else value


def read_rows(data: bytes, name: str) -> list[list]:
    """Return the file's rows, parsed in the sandbox (raise ImportFileError)."""
    try:
        return sandbox.run("recipients.tabular:parse_table", data, name, Limits.from_settings())
    except sandbox.SandboxError as exc:
        raise ImportFileError(str(exc)) from exc


def columns_of(header: list, match_key: str) -> tuple[list[tuple[str, str]], int]:
    """Return the [header, field] pairs and the index of the code column; raise ImportFileError."""
    pairs = [(str(cell).strip(), field_name(cell)) for cell in header]
    for number, (text, name) in enumerate(pairs, start=1):
        if not name:
            raise ImportFileError(_("Column %(n)d has no header.") % {"n": number})
        if name in RESERVED:
            raise ImportFileError(_("The column “%(header)s” has a reserved name; rename it.") % {"header": text})
    names = [name for _text, name in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ImportFileError(_("Several columns have the same name: %(names)s.") % {"names": ", ".join(repeated)})
    codes = [i for i, cell in enumerate(header) if HEADERS.get(header_key(cell)) == match_key]
    if not codes:
        raise ImportFileError(
            _("The file has no column of the code it is matched by (%(key)s).") % {"key": MatchKey(match_key).label}
        )
    return pairs, codes[0]


@dataclass
class Parsed:
    columns: list[tuple[str, str]]
    by_code: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)
    problems: list[dict] = field(default_factory=list)
    rows: int = 0


def parse(rows: list[list], match_key: str) -> Parsed:
    """Group the data rows by code (row numbers count the header as row 1)."""
    if not rows:
        raise ImportFileError(_("The file is empty."))
    columns, code_index = columns_of(rows[0], match_key)
    parsed = Parsed(columns)
    for number, row in enumerate(rows[1:], start=2):
        if all(cell in ("", None) for cell in row):
            continue
        parsed.rows += 1
        cells = [*row, *[""] * (len(columns) - len(row))]
        values = {name: plain(cells[i]) for i, (_h, name) in enumerate(columns)}
        code = str(cells[code_index]).strip()
        if not code:
            parsed.problems.append({"row": number, "code": "", "kind": "no_code"})
            continue
        group = parsed.by_code.setdefault(code, [])
        if any(values == earlier for _n, earlier in group):
            parsed.problems.append({"row": number, "code": code, "kind": "duplicate"})
            continue
        group.append((number, values))
    return parsed


@transaction.atomic
def attach(dispatch, data: bytes, name: str, match_key: str, user) -> MergeFile:
    """Read and keep the dispatch's merge data (replacing any earlier file); raise ImportFileError."""
    parsed = parse(read_rows(data, name), match_key)
    organisations: dict[str, list[int]] = {}
    for pk, code in Organization.objects.filter(**{f"{match_key}__in": list(parsed.by_code)}).values_list(
        "pk", match_key
    ):
        organisations.setdefault(code, []).append(pk)
    records, problems = [], list(parsed.problems)
    for code, group in parsed.by_code.items():
        matches = organisations.get(code, [])
        if len(matches) != 1:
            problems.append({"row": group[0][0], "code": code, "kind": "unknown_code" if not matches else "ambiguous"})
            continue
        records.append(MergeRecord(dispatch=dispatch, organization_id=matches[0], fields=group[0][1],
                                   table=[values for _n, values in group], first_row=group[0][0],
                                   row_numbers=[n for n, _v in group]))  # fmt: skip
    MergeRecord.objects.filter(dispatch=dispatch).delete()
    MergeFile.objects.filter(dispatch=dispatch).delete()
    merge_file = MergeFile(dispatch=dispatch, original_name=name[:255], sha256=hashlib.sha256(data).hexdigest(),
                           match_key=match_key, columns=parsed.columns, row_count=parsed.rows,
                           problems=sorted(problems, key=lambda p: p["row"]), uploaded_by=user)  # fmt: skip
    merge_file.file.save(f"merge/{storage.random_name(suffix='.bin')}", ContentFile(data), save=False)
    merge_file.save()
    MergeRecord.objects.bulk_create(records, batch_size=2000)
    AuditEvent.objects.record(
        user, "merge_data:upload", dispatch, {"name": name, "rows": parsed.rows, "sha256": merge_file.sha256}
    )
    return merge_file
