"""The merge data report (notices/models/merge_report.py): each rule with its row, and the workflow's refusal."""

from __future__ import annotations

import pytest

from notices.merge_data import attach
from notices.models import MergeRecord
from notices.models.merge_report import merge_report
from notices.models.workflow import WorkflowError
from tests.notices.merge_fixtures import ENCODINGS, HEADER, csv_text
from tests.recipients.conftest import xlsx_bytes


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_each_rule_is_reported_with_its_row_number_in_every_encoding(personalised, drafter, encoding):
    rows = [
        ["TB00001", "Công ty Hồng Hà 1", "1500000", "01/2026"],
        ["TB00001", "Công ty Hồng Hà 1", "1500000", "02/2026"],
        ["TB00001", "Công ty Hồng Hà 1", "1500000", "02/2026"],  # row 4: duplicate
        ["TB99999", "Không có", "1", "01/2026"],  # row 5: unknown code
        ["TB00002", "Công ty Hồng Hà 2", "", "01/2026"],  # row 6: empty required field
        ["", "Không mã", "1", "01/2026"],  # row 7: no code
    ]
    attach(personalised, ENCODINGS[encoding](csv_text(rows)), "no.csv", "bhxh_code", drafter)
    report = merge_report(personalised)
    assert report.messages() == [
        "Row 4 repeats an earlier row of the code TB00001.",
        "Row 5: no organisation has the code TB99999.",
        "Row 6 (TB00002): the field “so_tien_no” is empty.",
        "Row 7 has no code.",
        "No row for the organisation “Công ty Hồng Hà 3”.",
    ]
    record = MergeRecord.objects.get(dispatch=personalised, organization__bhxh_code="TB00001")
    assert record.fields["ten_don_vi"] == "Công ty Hồng Hà 1"
    assert [row["thang"] for row in record.table] == ["01/2026", "02/2026"]
    assert record.row_numbers == [2, 3]


def test_a_field_the_file_lacks_is_reported(personalised, drafter, employers):
    personalised.body = "<p>{{ han_nop|date }}</p>"
    personalised.save()
    rows = [HEADER, *[[org.bhxh_code, org.name, 1, "01/2026"] for org in employers]]
    attach(personalised, xlsx_bytes(rows), "no.xlsx", "bhxh_code", drafter)
    assert merge_report(personalised).messages() == [
        "The templates use the field “han_nop”, which the file has no column for."
    ]


def test_submit_and_approve_are_refused_while_the_report_has_problems(personalised, drafter, approver, employers):
    with pytest.raises(WorkflowError, match="no merge data file"):
        personalised.submit(drafter)
    rows = [HEADER, [employers[0].bhxh_code, "A", 1, "01/2026"]]
    attach(personalised, xlsx_bytes(rows), "no.xlsx", "bhxh_code", drafter)
    with pytest.raises(WorkflowError, match="No row for the organisation “Công ty Hồng Hà 2”"):
        personalised.submit(drafter)
    personalised.refresh_from_db()
    assert personalised.status == "draft"
    rows = [HEADER, *[[org.bhxh_code, org.name, 1, "01/2026"] for org in employers]]
    attach(personalised, xlsx_bytes(rows), "no.xlsx", "bhxh_code", drafter)
    personalised.submit(drafter)
    MergeRecord.objects.filter(dispatch=personalised, organization=employers[2]).delete()
    with pytest.raises(WorkflowError, match="No row for the organisation “Công ty Hồng Hà 3”"):
        personalised.approve(approver)
