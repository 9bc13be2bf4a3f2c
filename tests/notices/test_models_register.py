"""The register's query methods (notices/models/register.py) and the delivery counts by status, read from the database."""

from __future__ import annotations

import datetime

from django.utils import timezone

from notices.models import Delivery, DeliveryKind, DeliveryStatus, OutgoingRegister, SendRecord
from tests.conftest import make_group


def deliver(dispatch, group, **changes) -> None:
    for i, org in enumerate(group.members.order_by("name")):
        values = {"status": DeliveryStatus.QUEUED, **{k: v[i] for k, v in changes.items()}}
        Delivery.objects.create(dispatch=dispatch, organization=org, organization_name=org.name,
                                address=f"o{i}@bhxh-hanoi.example.vn", **values)  # fmt: skip


def test_with_delivery_stats_counts_copies_acknowledgements_and_the_first_sending(draft):
    group = make_group(3)
    now = timezone.now()
    early = now - datetime.timedelta(hours=2)
    deliver(draft, group, sent_at=[now, early, None], acknowledged_at=[now, None, None])
    other = make_group(1, name="Khác")
    Delivery.objects.create(dispatch=draft, kind=DeliveryKind.RECALL, organization=other.members.get(),
                            organization_name="x", address="recall@bhxh-hanoi.example.vn")  # fmt: skip
    entry = OutgoingRegister.objects.filter(pk=draft.pk).with_delivery_stats().get()
    assert (entry.copies, entry.acknowledged, entry.sent_on) == (3, 1, early), "dispatch emails only"
    empty = OutgoingRegister.objects.exclude(pk=draft.pk)
    assert all(e.copies == 0 for e in empty.with_delivery_stats())


def test_count_by_status_gives_one_row_per_status(draft):
    deliver(draft, make_group(3), status=[DeliveryStatus.SENT, DeliveryStatus.SENT, DeliveryStatus.FAILED])
    rows = list(draft.deliveries.count_by_status())
    assert rows == [{"status": "failed", "n": 1}, {"status": "sent", "n": 2}]


def test_the_send_history_lists_every_kind_of_delivery(draft):
    group = make_group(1)
    org = group.members.get()
    for kind in DeliveryKind.values:
        Delivery.objects.create(dispatch=draft, kind=kind, organization=org, organization_name=org.name,
                                address=f"{kind}@bhxh-hanoi.example.vn")  # fmt: skip
    assert sorted(SendRecord.objects.values_list("kind", flat=True)) == sorted(DeliveryKind.values)
    assert list(draft.deliveries.values_list("kind", flat=True)) == [DeliveryKind.DISPATCH]
