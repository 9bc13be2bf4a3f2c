"""The communications lead's figures, from the summary table and the recent deliveries."""

from __future__ import annotations

import datetime

from django.db.models import F
from django.utils import timezone

from notices import dashboard
from notices.models import Delivery, Dispatch


def test_dispatches_this_week_and_month_follow_hanoi_calendar(draft):
    now = timezone.make_aware(datetime.datetime(2026, 3, 18, 10, 0))  # a Wednesday, Hà Nội time
    for day in (16, 15, 2, 1):  # Monday, the Sunday before, this month, and 1 March
        Dispatch.objects.create(issuer=draft.issuer, drafting_unit=draft.drafting_unit, signer=draft.signer,
                                subject="x", body="x", issued_at=timezone.make_aware(datetime.datetime(2026, 3, day, 0, 5)))  # fmt: skip
    Dispatch.objects.create(issuer=draft.issuer, drafting_unit=draft.drafting_unit, signer=draft.signer, subject="x",
                            body="x", issued_at=timezone.make_aware(datetime.datetime(2026, 2, 28, 23, 55)))  # fmt: skip

    assert dashboard.dispatch_counts(now) == {"week": 1, "month": 4}


def test_bounce_rates_by_recipient_kind(seeded):
    kinds, chart = dashboard.bounces_by_kind(timezone.now())

    rates = {k.kind: (k.total, k.bounced, k.rate) for k in kinds}
    # 10 of each kind in each of 4 dispatches; i = 0, 10, 20 bounced: one of each kind
    assert rates == {"Police": (40, 4, 10.0), "Employer": (40, 4, 10.0), "People's committee": (40, 4, 10.0)}
    assert "<svg" in chart and "10.0%" in chart


def test_the_rates_chart_has_one_point_per_week_labelled_day_and_month(seeded):
    svg = dashboard.rates_by_week(timezone.now())

    assert svg.count("<polyline") == 2
    monday = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday())
    assert f">{monday:%d/%m}<" in svg


def test_the_slowest_organisations_are_those_acknowledging_last(seeded):
    slowest = dashboard.slowest_organisations(timezone.now(), limit=3)

    assert len(slowest) == 3
    assert all(row["waiting"] == row["received"] for row in slowest)  # never acknowledged: still waiting
    hours = [row["hours"] for row in slowest]
    assert hours == sorted(hours, reverse=True)


def test_a_dispatch_chart_cumulates_sent_and_acknowledged(seeded):
    svg = dashboard.dispatch_chart(seeded[1])

    assert svg.count("<polyline") == 2
    assert "sent 30</title>" in svg and "acknowledged 10</title>" in svg  # the last point of each line
    assert "acknowledged 0</title>" in svg  # on the day of issue, nobody had acknowledged


def test_the_slowest_organisations_are_kept_until_beat_refreshes_them(seeded):
    now = timezone.now()
    first = dashboard.cached_slowest(now)
    Delivery.objects.filter(organization_name=first[0]["organization_name"]).update(acknowledged_at=F("sent_at"))

    assert dashboard.cached_slowest(now) == first
    assert dashboard.cached_slowest(now, refresh=True)[0]["organization_name"] != first[0]["organization_name"]
