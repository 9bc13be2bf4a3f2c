from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from notices import issuing, roles, signals
from notices.models import AuditEvent, Delivery, DeliveryEvent, Dispatch, DispatchCopy, DispatchStatus
from recipients.models import Organization
from tests.conftest import make_group, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(draft):
    """An issued, sent dispatch with three deliveries: one acknowledged, one with provider events."""
    group = make_group(3)
    draft.groups.add(group)
    Dispatch.objects.filter(pk=draft.pk).update(
        status=DispatchStatus.SENT, number=5, year=2026, series="regular", issued_at=timezone.now(),
        subject="=HYPERLINK(\"http://evil\")", pdf_sha256="ab" * 32,
    )  # fmt: skip
    draft.refresh_from_db()
    now = timezone.now()
    for i, org in enumerate(group.members.order_by("name")):
        Delivery.objects.create(
            dispatch=draft, organization=org, organization_name=org.name, address=f"office{i:03d}@bhxh-hanoi.example.vn",
            status="delivered", sent_at=now, provider_message_id=f"<msg-{i}@mail>",
            acknowledged_at=now if i == 0 else None,
        )  # fmt: skip
    first = Delivery.objects.get(address="office001@bhxh-hanoi.example.vn")
    DeliveryEvent.objects.create(delivery=first, type="delivered", detail="250 OK", provider_event_id="evt-1")
    return draft


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_the_register_shows_the_decree_columns(client, sent, auditor):
    client.force_login(auditor)
    page = client.get(reverse("admin:notices_outgoingregister_changelist")).content.decode()
    assert "05/BHXH-QLT" in page and "VT, QLT" in page and "Nguyễn Văn Minh" in page
    rows = read_csv(client.get(reverse("admin:notices_outgoingregister_export", args=["csv"])))
    header, row = rows[0], rows[1]
    assert len(rows) == 2 and len(header) == 11
    assert row[0] == "05/BHXH-QLT" and row[6] == "3" and row[8] == "1"  # copies, acknowledged
    assert header[10] == "SHA-256 of the PDF sent" and row[10] == "ab" * 32


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


def test_the_send_history_is_searched_by_exact_email_number_subject_and_organisation(client, sent, auditor):
    client.force_login(auditor)
    url = reverse("admin:notices_sendrecord_changelist")

    def found(term: str) -> set[str]:
        page = client.get(url, {"q": term}).content.decode()
        return {a for a in Delivery.objects.values_list("address", flat=True) if a in page}

    assert found("office002@bhxh-hanoi.example.vn") == {"office002@bhxh-hanoi.example.vn"}
    assert found("office00") == set()  # emails only match exactly
    assert len(found("05/BHXH-QLT")) == 3
    assert len(found("HYPERLINK")) == 3
    assert found("cơ sở số 001") == {"office001@bhxh-hanoi.example.vn"}


def test_the_send_history_filters_by_kind_unit_urgency_status_and_date(client, sent, auditor, unit):
    client.force_login(auditor)
    url = reverse("admin:notices_sendrecord_changelist")
    for params, expected in [
        ({"kind": "bhxh"}, 3), ({"kind": "police"}, 0), ({"unit": str(unit.pk)}, 3), ({"urgency": "khan"}, 0),
        ({"urgency": "normal"}, 3), ({"status__exact": "bounced"}, 0), ({"created_at__gte": "2000-01-01 00:00:00+07:00"}, 3),
        ({"created_at__lt": "2000-01-02 00:00:00+07:00"}, 0),
    ]:  # fmt: skip
        page = client.get(url, params)
        assert page.status_code == 200, params
        assert page.content.decode().count("@bhxh-hanoi.example.vn</") == expected, params


def test_a_delivery_timeline_shows_events_message_id_and_pdf_hash(client, sent, auditor):
    client.force_login(auditor)
    delivery = Delivery.objects.get(address="office001@bhxh-hanoi.example.vn")
    page = client.get(reverse("admin:notices_sendrecord_change", args=[delivery.pk])).content.decode()
    assert "&lt;msg-1@mail&gt;" in page and "ab" * 32 in page
    assert "timeline-delivered" in page and "evt-1" in page and "timeline-queued" in page
    organisation = client.get(reverse("admin:notices_sendrecord_organisation", args=[delivery.organization_id]),
                              follow=True).content.decode()  # fmt: skip
    assert "office001@bhxh-hanoi.example.vn" in organisation and "office002@" not in organisation


def test_the_register_entry_shows_the_dispatch_history(client, sent, drafter, approver, auditor):
    from notices import audit

    audit.record(drafter, "submit", sent)
    audit.record(approver, "approve", sent)
    client.force_login(auditor)
    page = client.get(reverse("admin:notices_outgoingregister_change", args=[sent.pk])).content.decode()
    assert "audit-submit" in page and "audit-approve" in page
    assert "<td>Submitted for approval</td>" in page and "<td>Approved</td>" in page  # labels, not codes
    assert ">submit<" not in page and ">approve<" not in page


def test_admin_changes_to_any_model_are_audited(client, issuer):
    admin_user = make_user("quantri", roles.ADMINISTRATOR)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:notices_draftingunit_add"), {"issuer": issuer.pk, "name": "Văn phòng", "abbreviation": "VP"}
    )
    assert response.status_code == 302
    org = Organization.objects.create(name="Công an phường Ba Đình", kind="police", level="commune")
    client.post(reverse("admin:recipients_organization_delete", args=[org.pk]), {"post": "yes"})
    actions = list(AuditEvent.objects.filter(actor=admin_user).values_list("action", "object_type"))
    assert ("create", "notices.draftingunit") in actions and ("delete", "recipients.organization") in actions


def test_sending_signals_are_audited_as_system_events(sent):
    signals.sending_started.send(sender=Dispatch, dispatch=sent)
    signals.sending_finished.send(sender=Dispatch, dispatch=sent)
    events = AuditEvent.objects.for_object(sent).order_by("seq")
    assert [(e.action, e.actor_id) for e in events] == [("sending_started", None), ("sending_finished", None)]
    assert events[1].details == {"status": "sent"}


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


def test_the_auditor_reads_every_model_and_changes_none(auditor):
    from django.contrib.auth.models import Permission

    perms = set(auditor.get_all_permissions())
    assert {
        f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.filter(codename__startswith="view_")
    } <= perms
    assert not [p for p in perms if p.split(".")[1].startswith(("add_", "change_", "delete_"))]


def many_deliveries(dispatch: Dispatch, count: int) -> None:
    Delivery.objects.bulk_create(
        Delivery(dispatch=dispatch, organization_name=f"Đơn vị {i}", address=f"u{i:05d}@example.vn", status="sent")
        for i in range(count)
    )


def test_the_send_history_counts_exactly_and_reaches_every_page(client, sent, auditor):
    many_deliveries(sent, 2_100)  # past the old cap of 2,000 (+ the fixture's 3)
    client.force_login(auditor)
    url = reverse("admin:notices_sendrecord_changelist")
    page = client.get(url).content.decode()
    assert "2103 results" in page and "2001" not in page
    last = client.get(url, {"p": 43})  # 2,103 rows at 50 a page: page 43 holds the 3 oldest
    assert last.status_code == 200
    assert last.content.decode().count("@bhxh-hanoi.example.vn</") == 3
    for number in (2, 22, 42):  # read from the front, the middle and the back of the ordering
        page = client.get(url, {"p": number}).content.decode()
        expected = list(Delivery.objects.order_by("-id").values_list("address", flat=True)[(number - 1) * 50 :][:50])
        assert sorted(expected, key=page.index) == expected and len(expected) == 50, number


def test_a_page_beyond_the_last_shows_the_last_page_and_says_so(client, sent, auditor):
    many_deliveries(sent, 100)
    client.force_login(auditor)
    response = client.get(reverse("admin:notices_sendrecord_changelist"), {"p": 60})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Page 60 does not exist: the list has 3 pages. This is the last one." in page
    assert "office000@bhxh-hanoi.example.vn" in page  # the oldest rows: the last page, not page 1
    assert "u00099@example.vn" not in page


def test_a_page_beyond_the_last_counts_the_million_rows_once(client, sent, auditor):
    many_deliveries(sent, 100)
    client.force_login(auditor)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:notices_sendrecord_changelist"), {"p": 60})
    assert response.status_code == 200 and "office000@bhxh-hanoi.example.vn" in response.content.decode()
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"] and "notices_delivery" in q["sql"]]
    assert len(counts) == 1, counts


def test_the_audit_trail_pages_beyond_the_last_also_say_so(client, sent, auditor):
    client.force_login(auditor)
    page = client.get(reverse("admin:notices_auditevent_changelist"), {"p": 7}).content.decode()
    assert "Page 7 does not exist: the list has 1 pages." in page


def test_there_is_one_delivery_screen(client, sent, auditor):
    from django.contrib import admin

    from notices.models import DeliveryKind, RecallNotice, SendRecord

    registered = {model for model in admin.site._registry if model._meta.concrete_model is Delivery}
    assert registered == {SendRecord}, "one screen over the Delivery table, filtered by kind"
    first = Delivery.objects.filter(dispatch=sent).order_by("id").first()
    RecallNotice.objects.create(
        dispatch=sent, kind=DeliveryKind.RECALL, organization=first.organization,
        organization_name=first.organization_name, address="recall-only@bhxh-hanoi.example.vn",
    )  # fmt: skip
    client.force_login(auditor)
    summary = client.get(reverse("admin:notices_dispatch_change", args=[sent.pk])).content.decode()
    assert reverse("admin:notices_sendrecord_changelist") + f"?dispatch__id__exact={sent.pk}" in summary
    url = reverse("admin:notices_sendrecord_changelist")
    recalls = client.get(url, {"kind__exact": DeliveryKind.RECALL}).content.decode()
    assert "recall-only@bhxh-hanoi.example.vn" in recalls and first.address not in recalls
    dispatch_emails = client.get(url, {"kind__exact": DeliveryKind.DISPATCH}).content.decode()
    assert "recall-only@bhxh-hanoi.example.vn" not in dispatch_emails and first.address in dispatch_emails
    rows = read_csv(client.get(reverse("admin:notices_sendrecord_export", args=["csv"]), {"kind__exact": "recall"}))
    assert [row[3] for row in rows[1:]] == ["recall-only@bhxh-hanoi.example.vn"]
    assert rows[1][rows[0].index("kind")] == "Recall notice"


def test_the_send_history_export_has_each_recipients_pdf_hash_and_a_formatted_sheet(client, sent, auditor):
    client.force_login(auditor)
    rows = read_csv(client.get(reverse("admin:notices_sendrecord_export", args=["csv"])))
    column = rows[0].index("SHA-256 of the PDF received")
    assert {row[column] for row in rows[1:]} == {"ab" * 32}
    response = client.get(reverse("admin:notices_sendrecord_export", args=["xlsx"]))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1]) and not sheet.cell(row=2, column=1).font.bold
    widths = {letter: dim.width for letter, dim in sheet.column_dimensions.items()}
    assert widths["D"] >= len("office000@bhxh-hanoi.example.vn") and widths["K"] == 60  # 64 hex digits, capped


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


def test_the_timeline_shows_each_event_once_with_its_label(client, sent, auditor):
    delivery = Delivery.objects.get(address="office002@bhxh-hanoi.example.vn")
    for kind in ["queued", "sending", "sent", "provider:bounced"]:
        DeliveryEvent.objects.create(delivery=delivery, type=kind)
    client.force_login(auditor)
    page = client.get(reverse("admin:notices_sendrecord_change", args=[delivery.pk])).content.decode()
    timeline = page[page.index('class="delivery-timeline"') :]
    assert timeline.count("<td>Queued</td>") == 1 and timeline.count("<td>Sent</td>") == 1
    assert "<td>Sending</td>" in timeline and "<td>Provider reported: Bounced</td>" in timeline
    assert ">provider:bounced<" not in timeline and ">sending<" not in timeline


def test_the_greeting_names_the_user_in_vietnamese_order(client, auditor):
    auditor.first_name, auditor.last_name = "Kiểm", "Phạm Văn"
    auditor.save()
    client.force_login(auditor)
    assert '<strong class="user-full-name">Phạm Văn Kiểm</strong>' in client.get("/admin/").content.decode()
    auditor.first_name = auditor.last_name = ""
    auditor.save()
    assert '<strong class="user-full-name">kiemtoan</strong>' in client.get("/admin/").content.decode()


def test_every_auditor_list_and_the_dispatches_are_searched_without_accents(client, sent, auditor):
    from notices import audit

    org = Organization.objects.create(name="Công an phường Ba Đình", kind="police", level="commune")
    Delivery.objects.create(dispatch=sent, organization=org, organization_name=org.name, address="ca@badinh.vn")
    Dispatch.objects.filter(pk=sent.pk).update(subject="Đôn đốc thu nợ quận Hoàn Kiếm")
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


def test_the_dispatch_page_names_its_approver_and_issuer_in_full(client, sent, approver, clerk, auditor):
    approver.first_name, approver.last_name = "Duyệt", "Trần Văn"
    approver.save()
    Dispatch.objects.filter(pk=sent.pk).update(approved_by=approver, issued_by=clerk)  # clerk has no name: user name
    client.force_login(auditor)
    page = client.get(reverse("admin:notices_dispatch_change", args=[sent.pk])).content.decode()
    assert '<div class="readonly">Trần Văn Duyệt</div>' in page and '<div class="readonly">vanthu</div>' in page
    assert ">pheduyet<" not in page


def test_a_personalised_dispatch_is_one_register_entry_counting_its_signed_copies(client, sent, auditor):
    Dispatch.objects.filter(pk=sent.pk).update(personalised=True, addressees="{{ ten_don_vi }}")
    organizations = [d.organization for d in Delivery.objects.filter(dispatch=sent).order_by("pk")]
    Delivery.objects.create(dispatch=sent, organization=organizations[0], organization_name=organizations[0].name,
                            address="second-address@bhxh-hanoi.example.vn", status="delivered")  # fmt: skip
    for i, org in enumerate(organizations[:2]):  # the third organisation's copy is still being made
        DispatchCopy.objects.store(sent, org, "a", b"%PDF-1", f"code-{i}", f"AAAA-BBBB-C{i + 2}")
    client.force_login(auditor)

    page = client.get(reverse("admin:notices_outgoingregister_changelist")).content.decode()
    assert page.count("05/BHXH-QLT") == 1 and '<td class="field-copies">2</td>' in page
    rows = read_csv(client.get(reverse("admin:notices_outgoingregister_export", args=["csv"])))
    assert len(rows) == 2 and rows[0][6] == "copies" and rows[1][6] == "2"  # two copies, not four emails
    assert rows[1][10] == "each copy its own (see the send history)"  # the master PDF was sent to nobody
    assert rows[1][4] == "each organisation targeted, with its own copy" and "ten_don_vi" not in page
