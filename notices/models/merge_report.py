"""The check of a personalised dispatch's merge data against its templates and recipients, before approval."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notices import templating
from notices.models.merge import MergeFile, MergeRecord

MESSAGES = {
    "no_code": gettext_lazy("Row %(row)s has no code."),
    "duplicate": gettext_lazy("Row %(row)s repeats an earlier row of the code %(code)s."),
    "unknown_code": gettext_lazy("Row %(row)s: no organisation has the code %(code)s."),
    "ambiguous": gettext_lazy("Row %(row)s: several organisations have the code %(code)s."),
    "empty": gettext_lazy("Row %(row)s (%(code)s): the field “%(field)s” is empty."),
    "unknown_field": gettext_lazy("The templates use the field “%(field)s”, which the file has no column for."),
    "template": gettext_lazy("The template cannot be used: %(field)s"),
    "no_file": gettext_lazy("This personalised dispatch has no merge data file."),
}


@dataclass
class MergeReport:
    """What is wrong with the merge data: problems with row numbers, and the targeted organisations it misses."""

    problems: list[dict] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # names of targeted organisations without a row
    targeted: int = 0
    records: int = 0
    removed: bool = False  # the retention task deleted the file and the records: the signed copies remain

    @property
    def has_errors(self) -> bool:
        return bool(self.problems or self.missing)

    def messages(self) -> list[str]:
        """Return every problem in words, then the organisations without a row."""
        texts = [str(MESSAGES[p["kind"]]) % {"row": "", "code": "", "field": "", **p} for p in self.problems]
        return texts + [_("No row for the organisation “%(name)s”.") % {"name": name} for name in self.missing]


def templates_of(dispatch) -> list[tuple[str, bool]]:
    lines = [line for line in dispatch.addressees.splitlines() if line.strip()]
    return [(dispatch.subject, False), *[(line, False) for line in lines], (dispatch.body, True)]


def used_fields(dispatch, report: MergeReport) -> tuple[set[str], set[str]]:
    """Return the fields and table-row fields the templates read (template errors go into the report)."""
    fields, row_fields = set(), set()
    for source, html_body in templates_of(dispatch):
        try:
            fields |= templating.fields_used(source, html_body)
            row_fields |= templating.table_fields_used(source, html_body)
        except Exception as exc:  # noqa: BLE001 - a syntax error of any kind is reported, not raised
            report.problems.append({"row": None, "kind": "template", "field": str(exc)})
    return fields, row_fields


def merge_report(dispatch) -> MergeReport:
    """Return the report of `dispatch`'s merge data (a dispatch that is not personalised has none to check)."""
    report = MergeReport()
    if not dispatch.personalised:
        return report
    merge_file = MergeFile.objects.filter(dispatch=dispatch).first()
    if merge_file is None:
        report.problems.append({"row": None, "kind": "no_file"})
        return report
    if merge_file.records_removed:
        report.removed = True
        return report
    report.problems += merge_file.problems
    fields, row_fields = used_fields(dispatch, report)
    columns = {name for _header, name in merge_file.columns}
    report.problems += [
        {"row": None, "kind": "unknown_field", "field": f} for f in sorted((fields | row_fields) - columns)
    ]
    targets = dict(dispatch.target_organizations().values_list("pk", "name"))
    report.targeted = len(targets)
    seen = set()
    rows = MergeRecord.objects.filter(dispatch=dispatch).values_list(
        "organization_id", "fields", "table", "row_numbers", "organization__" + merge_file.match_key
    )
    for organisation, values, table, numbers, code in rows.iterator():
        seen.add(organisation)
        report.problems += [
            {"row": numbers[0], "code": code, "kind": "empty", "field": f}
            for f in sorted(fields & columns)
            if values.get(f) in ("", None)
        ]
        for number, row in zip(numbers, table, strict=False):
            report.problems += [
                {"row": number, "code": code, "kind": "empty", "field": f}
                for f in sorted(row_fields & columns)
                if row.get(f) in ("", None)
            ]
    report.records = len(seen)
    report.missing = sorted(name for pk, name in targets.items() if pk not in seen)
    report.problems.sort(key=lambda p: p.get("row") or 0)
    return report
