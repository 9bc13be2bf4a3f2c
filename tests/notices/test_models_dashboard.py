"""The dashboard's summary table, recomputed from the deliveries."""

from __future__ import annotations

import datetime

from django.utils import timezone

from notices.models import Delivery, DeliveryStatus, DispatchCount
from tests.notices.dashboard_fixtures import seed


def test_the_counts_of_a_dispatch_are_grouped_by_recipient_kind(draft):
    (dispatch,) = seed(draft, dispatches=1, per_dispatch=30)

    rows = {r.organization_kind: r for r in DispatchCount.objects.filter(dispatch=dispatch)}
    assert sorted(rows) == ["committee", "employer", "police"]
    assert sum(r.total for r in rows.values()) == 30
    assert sum(r.bounced for r in rows.values()) == 3 and sum(r.reached for r in rows.values()) == 27
    assert sum(r.acknowledged for r in rows.values()) == 10
    police = rows["police"]  # i = 0, 3, ..., 27: acknowledged all; i % 5 == 0 (0, 15) after 3 days
    assert police.acknowledged == 10 and police.bounced == 1
    assert police.acknowledgement_delay > datetime.timedelta(days=10)


def test_a_refresh_counts_what_changed_since_and_replaces_the_rows(draft):
    (dispatch,) = seed(draft, dispatches=1, per_dispatch=6)
    Delivery.objects.filter(dispatch=dispatch, status=DeliveryStatus.DELIVERED).update(status=DeliveryStatus.COMPLAINED)

    DispatchCount.objects.refresh([dispatch.pk])

    assert DispatchCount.objects.filter(dispatch=dispatch).count() == 3
    assert sum(DispatchCount.objects.filter(dispatch=dispatch).values_list("bounced", flat=True)) == 6


def test_beat_recomputes_only_the_recent_dispatches(draft, settings):
    settings.DASHBOARD_WINDOW_DAYS = 10
    dispatches = seed(draft, dispatches=3, per_dispatch=3)  # issued now, a week ago, two weeks ago
    DispatchCount.objects.all().delete()

    DispatchCount.objects.refresh_recent(timezone.now())

    assert set(DispatchCount.objects.values_list("dispatch_id", flat=True)) == {dispatches[0].pk, dispatches[1].pk}
