"""The base of the auditors' lists (notices/admin/records.py): exports escaped and audited, searched without accents."""

from __future__ import annotations

import io

from django.urls import reverse
from openpyxl import load_workbook

from notices.models import AuditEvent, Delivery, Dispatch
from recipients.folding import fold
from recipients.models import Organization
from tests.notices.delivery_fixtures import read_csv


def test_exports_escape_formulas_and_are_audited(client, sent, auditor):
    client.force_login(auditor)
    rows = read_csv(client.get(reverse("admin:notices_outgoingregister_export", args=["csv"]) + "?status__exact=sent"))
    assert rows[1][2] == '\'=HYPERLINK("http://evil")'
    response = client.get(reverse("admin:notices_outgoingregister_export", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.cell(row=2, column=3).value == '\'=HYPERLINK("http://evil")'
    exports = AuditEvent.objects.filter(action="export", actor=auditor).order_by("seq")
    assert [e.details["format"] for e in exports] == ["csv", "xlsx"]
    assert exports[0].details["filters"] == {"status__exact": "sent"}


def test_every_auditor_list_and_the_dispatches_are_searched_without_accents(client, sent, auditor):
    from notices import audit

    org = Organization.objects.create(name="Công an phường Ba Đình", kind="police", level="commune")
    Delivery.objects.create(dispatch=sent, organization=org, organization_name=org.name, address="ca@badinh.vn")
    subject = "Đôn đốc thu nợ quận Hoàn Kiếm"  # an issued dispatch is frozen: the fixture writes past save()
    Dispatch.objects.filter(pk=sent.pk).update(subject=subject, search_subject=fold(subject))
    audit.record(auditor, "export", org)
    client.force_login(auditor)
    history = client.get(reverse("admin:notices_sendrecord_changelist"), {"q": "ba dinh"}).content.decode()
    assert "ca@badinh.vn" in history and "office000@" not in history
    assert (
        "05/BHXH-QLT"
        in client.get(reverse("admin:notices_outgoingregister_changelist"), {"q": "hoan kiem"}).content.decode()
    )
    assert "05/BHXH-QLT" in client.get(reverse("admin:notices_dispatch_changelist"), {"q": "DON DOC"}).content.decode()
    trail = client.get(reverse("admin:notices_auditevent_changelist"), {"q": "phuong ba dinh"}).content.decode()
    assert "Công an phường Ba Đình" in trail and "Exported a list" in trail
