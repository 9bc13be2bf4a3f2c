"""The acknowledgement report on the dispatch page: counts, the overdue list with phones, the export, reminders."""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from notices.models import AuditEvent, Dispatch, DispatchStatus, Reminder
from recipients.models import Organization
from tests.notices.delivery_fixtures import read_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def overdue(sent):
    """The sent dispatch past its deadline; office 002 renamed like a formula, with a phone."""
    Dispatch.objects.filter(pk=sent.pk).update(acknowledge_by=timezone.localdate() - datetime.timedelta(days=2))
    org = sent.deliveries.get(address="office002@bhxh-hanoi.example.vn").organization
    Organization.objects.filter(pk=org.pk).update(name="=cmd|' /C calc'!A0", phone="+84 24 3942 0000")
    sent.refresh_from_db()
    return sent


def url(name: str, dispatch, *args) -> str:
    return reverse(f"admin:notices_dispatch_{name}", args=[dispatch.pk, *args])


def test_the_report_counts_and_lists_those_overdue_with_their_phone(client, overdue, auditor):
    client.force_login(auditor)
    page = client.get(url("acknowledgements", overdue)).content.decode()
    assert '<tfoot><tr><th colspan="2">Total</th><th>3</th><th>1</th><th>2</th><th>2</th></tr></tfoot>' in page
    assert "+84 24 3942 0000" in page and "Bảo hiểm xã hội cơ sở số 001" in page
    assert "Bảo hiểm xã hội cơ sở số 000" not in page.split('id="acknowledgement-overdue"')[1]  # it acknowledged
    change = client.get(url("change", overdue)).content.decode()
    assert "1 of 3 organisations acknowledged; 2 overdue" in change


def test_the_export_escapes_formula_cells_and_is_audited(client, overdue, auditor):
    client.force_login(auditor)
    rows = read_csv(client.get(url("acknowledgements_export", overdue, "csv")))
    assert rows[0][:4] == ["Organisation", "Kind", "Area", "Phone"]
    assert [r[0] for r in rows[1:]] == ["'=cmd|' /C calc'!A0", "Bảo hiểm xã hội cơ sở số 001"]
    assert rows[1][3] == "'+84 24 3942 0000"
    response = client.get(url("acknowledgements_export", overdue, "xlsx"))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet["A2"].value == "'=cmd|' /C calc'!A0" and sheet["A2"].data_type == "s"
    assert AuditEvent.objects.filter(action="export", details__list="acknowledgements").count() == 2


def test_a_drafter_sees_the_report_but_may_neither_export_nor_remind(client, overdue, drafter):
    client.force_login(drafter)
    assert client.get(url("acknowledgements", overdue)).status_code == 200
    assert client.get(url("acknowledgements_export", overdue, "csv")).status_code == 403
    assert client.get(url("remind", overdue)).status_code == 403
    assert client.post(url("remind", overdue)).status_code == 403
    assert not Reminder.objects.exists()


def test_the_clerk_confirms_how_many_are_reminded_then_sends_them_by_hand(client, overdue, clerk, fresh_broker):
    client.force_login(clerk)
    page = client.get(url("remind", overdue)).content.decode()
    assert "to 2 addresses of 2 organisations" in page
    client.post(url("remind", overdue))
    assert sorted(Reminder.objects.values_list("address", flat=True)) == [
        "office001@bhxh-hanoi.example.vn", "office002@bhxh-hanoi.example.vn"]  # fmt: skip
    assert AuditEvent.objects.get(action="remind").details["by_hand"] is True


def test_no_reminder_by_hand_for_a_recalled_dispatch(client, overdue, clerk):
    Dispatch.objects.filter(pk=overdue.pk).update(status=DispatchStatus.RECALLED)
    client.force_login(clerk)
    assert "recalled" in client.get(url("remind", overdue)).content.decode()
    client.post(url("remind", overdue))
    assert not Reminder.objects.exists()
