"""What auditors read (notices/admin/audit.py): the outgoing register and the audit trail, read-only."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from notices import issuing, roles, templating
from notices.models import AuditEvent, Dispatch, DispatchCopy
from tests.conftest import make_user
from tests.notices.delivery_fixtures import read_csv


def test_the_register_shows_the_decree_columns(client, sent, auditor):
    client.force_login(auditor)
    page = client.get(reverse("admin:notices_outgoingregister_changelist")).content.decode()
    assert "05/BHXH-QLT" in page and "VT, QLT" in page and "Nguyễn Văn Minh" in page
    rows = read_csv(client.get(reverse("admin:notices_outgoingregister_export", args=["csv"])))
    header, row = rows[0], rows[1]
    assert len(rows) == 2 and len(header) == 11
    assert row[0] == "05/BHXH-QLT" and row[6] == "3" and row[8] == "1"  # copies, acknowledged
    assert header[10] == "SHA-256 of the PDF sent" and row[10] == "ab" * 32


def test_the_register_entry_shows_the_dispatch_history(client, sent, drafter, approver, auditor):
    from notices import audit

    audit.record(drafter, "submit", sent)
    audit.record(approver, "approve", sent)
    client.force_login(auditor)
    page = client.get(reverse("admin:notices_outgoingregister_change", args=[sent.pk])).content.decode()
    assert "audit-submit" in page and "audit-approve" in page
    assert "<td>Submitted for approval</td>" in page and "<td>Approved</td>" in page  # labels, not codes
    assert ">submit<" not in page and ">approve<" not in page


def test_the_audit_trail_cannot_be_changed_in_the_admin(client, sent):
    from notices import audit

    event = audit.record(None, "sending_started", sent)
    admin_user = make_user("quantri", roles.ADMINISTRATOR)
    client.force_login(admin_user)
    assert client.post(reverse("admin:notices_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert client.post(reverse("admin:notices_auditevent_change", args=[event.pk]), {"action": "x"}).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == "sending_started"


def test_the_register_notes_recall_and_replacement(client, sent, clerk, auditor):
    issuing.recall(sent, clerk, "Sai đối tượng.")
    replacement = sent.start_replacement(clerk)
    Dispatch.objects.filter(pk=replacement.pk).update(status="issued", number=6, year=2026, series="regular",
                                                      issued_at=timezone.now())  # fmt: skip
    client.force_login(auditor)
    rows = read_csv(client.get(reverse("admin:notices_outgoingregister_export", args=["csv"])))
    notes = {row[0]: row[9] for row in rows[1:]}
    assert notes["05/BHXH-QLT"] == "Recalled: Sai đối tượng.; Replaced by 06/BHXH-QLT"
    assert notes["06/BHXH-QLT"] == "Replaces 05/BHXH-QLT"


def test_the_audit_trail_shows_labels_and_full_names(client, sent, approver, auditor):
    from notices import audit

    approver.first_name, approver.last_name = "Duyệt", "Trần Văn"
    approver.save()
    audit.record(approver, "approve", sent)
    audit.record(approver, "sending:pause", sent)
    audit.record(approver, "refused:issue", sent)
    client.force_login(auditor)
    page = client.get(reverse("admin:notices_auditevent_changelist")).content.decode()
    for label in ["Approved", "Sending: Paused sending", "Refused: Issued", "Trần Văn Duyệt", ">dispatch<"]:
        assert label in page, label
    for code in [">approve<", ">sending:pause<", ">refused:issue<", ">notices.dispatch<", ">pheduyet<"]:
        assert code not in page, code


def test_the_register_lists_a_personalised_dispatch_once_with_its_copies_and_its_subject_unfilled(
    client, uploaded, employers, auditor
):
    Dispatch.objects.filter(pk=uploaded.pk).update(
        subject="đôn đốc thu nợ {{ so_tien_no|money }} của {{ ten_don_vi }}{% if thang %} tháng {{ thang }}{% endif %}",
        status="sent", number=7, year=2026, series="regular", issued_at=timezone.now(),
    )  # fmt: skip
    uploaded.refresh_from_db()
    for index, org in enumerate(employers):
        DispatchCopy.objects.store(uploaded, org, "đôn đốc", b"%PDF-1", f"code-{index}", f"AAAA-BBBB-C{index + 2}")
    shown = "đôn đốc thu nợ [Số tiền nợ] của [Tên đơn vị] tháng [Tháng]"  # the merge file's column names
    client.force_login(auditor)
    page = client.get(reverse("admin:notices_outgoingregister_changelist")).content.decode()
    assert shown in page and "{{" not in page and "{%" not in page
    rows = read_csv(client.get(reverse("admin:notices_outgoingregister_export", args=["csv"])))
    assert len(rows) == 2 and rows[1][0] == "07/BHXH-QLT"
    assert rows[1][2] == shown and rows[1][6] == "3"  # one entry, its three copies


def test_an_unfilled_subject_names_a_field_without_a_column_by_its_own_name_and_drops_tags_and_comments():
    subject = 'V/v {{ no }} {# ghi chú #}và {{ 1 + }} {{ so|default("x") }}{% if no %} hạn {{ han|date }}{% endif %}'
    assert templating.outline(subject, {"no": "Nợ"}) == "V/v [Nợ] và […] [so] hạn [han]"
