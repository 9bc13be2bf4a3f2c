"""Merge data files: reading in the directory's encodings, the report with row numbers, and the workflow's refusal."""

from __future__ import annotations

import csv
import datetime
import io
import os

import pytest
from django.urls import reverse
from django.utils import timezone

from notices import roles
from notices.merge_data import attach, field_name
from notices.models import AuditEvent, Dispatch, DispatchCopy, MergeFile, MergeRecord
from notices.models.merge_report import merge_report
from notices.models.workflow import WorkflowError
from notices.tasks import remove_merge_files  # noqa: F401
from recipients.models import Organization, OrganizationEmail, OrganizationKind, OrganizationLevel
from recipients.tabular import ImportFileError
from tests.conftest import make_user
from tests.recipients.conftest import encode_cp1258, xlsx_bytes

HEADER = ["Mã đơn vị", "Tên đơn vị", "Số tiền nợ", "Tháng"]


def csv_text(rows: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADER, *rows])
    return buffer.getvalue()


ENCODINGS = {
    "utf-8-sig": lambda text: text.encode("utf-8-sig"),
    "utf-16": lambda text: text.replace(",", "\t").encode("utf-16"),
    "cp1258": encode_cp1258,
}


@pytest.fixture
def employers(db):
    orgs = [Organization.objects.create(name=f"Công ty Hồng Hà {i}", kind=OrganizationKind.EMPLOYER,
                                        level=OrganizationLevel.CITY, bhxh_code=f"TB{i:05d}") for i in range(1, 4)]  # fmt: skip
    for org in orgs:
        OrganizationEmail.objects.create(organization=org, address=f"ke-toan{org.pk}@example.com", primary=True)
    return orgs


@pytest.fixture
def personalised(draft, employers):
    draft.personalised = True
    draft.subject = "đôn đốc thu nợ"
    draft.body = "<p>Số nợ {{ so_tien_no|money }}</p><table><tr><td>{% for r in table %}{{ r.thang }}{% endfor %}</td></tr></table>"
    draft.save()
    draft.organizations.set(employers)
    return draft


def test_headers_become_field_names():
    assert field_name("Số tiền nợ") == "so_tien_no"
    assert field_name(" Hạn  nộp ") == "han_nop"
    assert field_name("2026") == "cot_2026"


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


def test_an_xlsx_file_is_read_and_a_clean_file_has_no_problem(personalised, drafter, employers):
    rows = [HEADER, *[[org.bhxh_code, org.name, 1000 * i, "01/2026"] for i, org in enumerate(employers, 1)]]
    attach(personalised, xlsx_bytes(rows), "no.xlsx", "bhxh_code", drafter)
    report = merge_report(personalised)
    assert not report.has_errors and report.records == 3 and report.targeted == 3


def test_a_field_the_file_lacks_is_reported(personalised, drafter, employers):
    personalised.body = "<p>{{ han_nop|date }}</p>"
    personalised.save()
    rows = [HEADER, *[[org.bhxh_code, org.name, 1, "01/2026"] for org in employers]]
    attach(personalised, xlsx_bytes(rows), "no.xlsx", "bhxh_code", drafter)
    assert merge_report(personalised).messages() == [
        "The templates use the field “han_nop”, which the file has no column for."
    ]


def test_a_file_without_the_code_column_is_refused(personalised, drafter):
    with pytest.raises(ImportFileError, match="no column of the code"):
        attach(personalised, "Tên,Số tiền\r\nA,1\r\n".encode(), "no.csv", "bhxh_code", drafter)


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


@pytest.fixture
def uploaded(personalised, drafter, employers):
    rows = [HEADER, *[[org.bhxh_code, org.name, 1, "01/2026"] for org in employers]]
    attach(personalised, xlsx_bytes(rows), "no-thang-3.xlsx", "bhxh_code", drafter)
    return personalised


def test_the_drafter_downloads_the_merge_file_and_the_download_is_audited(client, uploaded, drafter):
    client.force_login(drafter)
    response = client.get(reverse("files:merge_file", args=[uploaded.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content)[:2] == b"PK"
    assert AuditEvent.objects.filter(action="download", details__file="merge_data").count() == 1


def test_an_auditor_may_not_download_the_merge_file_and_the_refusal_is_audited(client, uploaded, auditor):
    client.force_login(auditor)
    assert client.get(reverse("files:merge_file", args=[uploaded.pk])).status_code == 403
    assert AuditEvent.objects.filter(action="download:refused", details__file="merge_data").count() == 1


def test_the_raw_file_is_removed_after_the_retention_period(uploaded, settings):
    settings.MERGE_FILE_RETENTION_DAYS = 30
    merge_file = MergeFile.objects.get(dispatch=uploaded)
    path = merge_file.file.path
    Dispatch.objects.filter(pk=uploaded.pk).update(issued_at=timezone.now() - datetime.timedelta(days=29))
    assert remove_merge_files() == 0
    Dispatch.objects.filter(pk=uploaded.pk).update(issued_at=timezone.now() - datetime.timedelta(days=31))
    assert remove_merge_files() == 1
    merge_file.refresh_from_db()
    assert merge_file.removed_at is not None and not merge_file.file and not os.path.exists(path)


def test_the_merge_records_are_deleted_with_the_file_only_once_every_copy_exists(client, uploaded, employers, settings):
    settings.MERGE_FILE_RETENTION_DAYS = 30
    Dispatch.objects.filter(pk=uploaded.pk).update(
        status="sent", number=9, year=2026, series="regular", issued_at=timezone.now() - datetime.timedelta(days=31)
    )
    uploaded.refresh_from_db()
    for index, org in enumerate(employers[:2]):
        DispatchCopy.objects.store(uploaded, org, "a", b"%PDF-1", f"code-{index}", f"AAAA-BBBB-C{index + 2}")

    assert remove_merge_files() == 1  # the raw file goes; the third organisation's copy still needs its record
    merge_file = MergeFile.objects.get(dispatch=uploaded)
    assert merge_file.removed_at is not None and not merge_file.file
    assert MergeRecord.objects.filter(dispatch=uploaded).count() == 3
    removed_at = merge_file.removed_at

    DispatchCopy.objects.store(uploaded, employers[2], "a", b"%PDF-1", "code-2", "AAAA-BBBB-C4")
    assert remove_merge_files() == 1
    assert not MergeRecord.objects.filter(dispatch=uploaded).exists()
    assert DispatchCopy.objects.filter(dispatch=uploaded).count() == 3  # the signed copies remain the record
    assert MergeFile.objects.get(dispatch=uploaded).removed_at == removed_at
    assert remove_merge_files() == 0

    client.force_login(make_user("quantri", roles.ADMINISTRATOR))
    page = client.get(reverse("admin:notices_dispatch_merge", args=[uploaded.pk])).content.decode()
    assert "deleted on" in page and "No row for" not in page


def test_the_merge_records_of_a_dispatch_made_plain_after_the_upload_go_with_the_file(uploaded, settings):
    settings.MERGE_FILE_RETENTION_DAYS = 30
    Dispatch.objects.filter(pk=uploaded.pk).update(
        personalised=False, status="sent", number=9, year=2026, series="regular",
        issued_at=timezone.now() - datetime.timedelta(days=31),
    )  # fmt: skip
    assert remove_merge_files() == 1
    assert not MergeRecord.objects.filter(dispatch=uploaded).exists()  # no copy will ever be made from them
