"""The acknowledgement report: organisations acknowledged, not yet and overdue, by recipient kind and area."""

from __future__ import annotations

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notices.models import Delivery, DeliveryKind
from recipients.models import Organization, OrganizationKind, OrganizationLevel


def add_police(dispatch, acknowledged: bool, phone: str = "024 3942 4242") -> Organization:
    police = Organization.objects.create(name="Công an phường Ba Đình", kind=OrganizationKind.POLICE,
                                         level=OrganizationLevel.COMMUNE, area="Ba Đình", phone=phone)  # fmt: skip
    now = timezone.now()
    for i in range(2):  # two addresses: one acknowledgement stands for the organisation
        Delivery.objects.create(dispatch=dispatch, organization=police, organization_name=police.name,
                                address=f"ca{i}@police.example.vn", status="delivered", sent_at=now,
                                acknowledged_at=now if acknowledged and i == 1 else None)  # fmt: skip
    return police


def test_it_counts_organisations_by_kind_and_area_in_one_query(sent):
    add_police(sent, acknowledged=True)
    with CaptureQueriesContext(connection) as queries:
        report = Delivery.objects.acknowledgement_report(sent)
    assert len(queries) == 1
    rows = {(r.kind, r.area): (r.organizations, r.acknowledged, r.not_yet, r.overdue) for r in report.rows}
    assert rows == {("bhxh", ""): (3, 1, 2, 0), ("police", "Ba Đình"): (1, 1, 0, 0)}
    assert (report.organizations, report.acknowledged, report.not_yet, report.overdue) == (4, 2, 2, 0)


def test_those_not_yet_are_overdue_once_the_deadline_day_is_over(sent):
    sent.acknowledge_by = timezone.localdate() - datetime.timedelta(days=1)
    report = Delivery.objects.acknowledgement_report(sent)
    assert report.is_past_deadline and report.overdue == 2
    sent.acknowledge_by = timezone.localdate()
    assert Delivery.objects.acknowledgement_report(sent).overdue == 0


def test_reminders_and_test_copies_are_not_counted_as_recipients(sent):
    first = sent.deliveries.order_by("pk").first()
    Delivery.every_kind.create(dispatch=sent, kind=DeliveryKind.REMINDER, reminds=first, reminder_round=1,
                               organization=first.organization, address=first.address, acknowledged_at=timezone.now())  # fmt: skip
    Delivery.every_kind.create(dispatch=sent, kind=DeliveryKind.TEST_COPY, address="me@bhxh.example.vn")
    assert Delivery.objects.acknowledgement_report(sent).organizations == 3
    assert Delivery.objects.acknowledgement_report(sent).acknowledged == 1


def test_the_unacknowledged_list_names_each_organisation_once_with_its_phone(sent):
    add_police(sent, acknowledged=False, phone="069 219 4000")
    rows = list(Delivery.objects.unacknowledged_organizations(sent))
    assert [r["organization__name"] for r in rows] == [
        "Bảo hiểm xã hội cơ sở số 001", "Bảo hiểm xã hội cơ sở số 002", "Công an phường Ba Đình"]  # fmt: skip
    assert rows[2]["organization__phone"] == "069 219 4000"
    assert rows[2]["address"] == "ca0@police.example.vn"
