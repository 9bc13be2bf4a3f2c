"""The one delivery screen (notices/admin/deliveries.py): searched, filtered, exported, each delivery's timeline."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from notices.models import Delivery, DeliveryEvent
from recipients.models import Organization
from tests.notices.delivery_fixtures import read_csv


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


def test_the_send_history_finds_a_delivery_by_the_name_at_issue_and_by_todays_name_without_accents(
    client, sent, auditor
):
    org = Organization.objects.create(name="UBND quận Ba Đình", kind="committee", level="district")
    Delivery.objects.create(dispatch=sent, organization=org, organization_name=org.name, address="ub@badinh.vn")
    org.name = "UBND phường Giảng Võ"  # the 2025 reform renamed it after the dispatch went out
    org.save()
    client.force_login(auditor)
    url = reverse("admin:notices_sendrecord_changelist")
    for term in ["quan ba dinh", "UBND QUAN BA ĐINH", "giang vo"]:
        page = client.get(url, {"q": term}).content.decode()
        assert "ub@badinh.vn" in page and "office000@" not in page, term


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner's choice of index is PostgreSQL's")
def test_the_combined_filter_is_counted_from_one_index_of_dispatch_status_and_organisation(client, sent, auditor):
    client.force_login(auditor)
    params = {"status__exact": "delivered", "kind": "bhxh", "urgency": "normal"}
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("admin:notices_sendrecord_changelist"), params).status_code == 200
    count = next(
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "notices_delivery"')
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + count)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using delivery_dispatch_status_org" in plan, plan
