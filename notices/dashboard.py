"""The communications lead's figures: dispatches this week and month, delivery and acknowledgement rates by week,
bounces by recipient kind, the slowest organisations to acknowledge, open correction items, and one dispatch's
deliveries and acknowledgements over time.

Rates and bounces come from the summary table (`DispatchCount`, kept by beat); the week and month counts use the
dispatches' issue-date index; the slowest organisations read the deliveries of the last weeks' dispatches only,
through the delivery index on the dispatch; a dispatch's chart reads that dispatch's deliveries.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, Q, Sum, Value
from django.db.models.functions import Coalesce, Trunc, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from notices import charts, corrections
from notices.models import Delivery, DeliveryStatus, Dispatch, DispatchCount
from recipients.corrections import CorrectionItem
from recipients.models import OrganizationKind

S = DeliveryStatus
REACHED = [S.SENT, S.DELIVERED]
WEEKS, BOUNCE_DAYS, SLOW_DAYS = 12, 90, 30
SLOWEST_KEY = "dashboard:slowest-organisations"


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def day_month(day: datetime.date | datetime.datetime) -> str:
    return f"{day:%d/%m}"


def dispatch_counts(now: datetime.datetime) -> dict[str, int]:
    """Return how many dispatches were issued this week (from Monday) and this month, in Hà Nội's calendar."""
    today = timezone.localdate(now)
    week = today - datetime.timedelta(days=today.weekday())
    start = {"week": week, "month": today.replace(day=1)}
    issued = Dispatch.objects.filter(issued_at__isnull=False)
    tz = timezone.get_current_timezone()
    return {name: issued.filter(issued_at__gte=datetime.datetime.combine(day, datetime.time(), tz)).count()
            for name, day in start.items()}  # fmt: skip


def rates_by_week(now: datetime.datetime) -> str:
    """Return the chart of the delivered and acknowledged shares of the dispatches issued each week."""
    since = now - datetime.timedelta(weeks=WEEKS)
    weekly = (DispatchCount.objects.filter(issued_at__gte=since).annotate(week=TruncWeek("issued_at")).values("week")
              .annotate(total=Sum("total"), reached=Sum("reached"), acknowledged=Sum("acknowledged")).order_by("week"))  # fmt: skip
    rows = list(weekly)
    labels = [day_month(timezone.localtime(row["week"])) for row in rows]
    delivered = charts.Series(_("delivered"), [percent(r["reached"], r["total"]) for r in rows])
    acknowledged = charts.Series(_("acknowledged"), [percent(r["acknowledged"], r["total"]) for r in rows])
    return charts.line_chart(_("Delivery and acknowledgement rates by week of issue"), labels,
                             [delivered, acknowledged], percent=True)  # fmt: skip


@dataclass
class KindBounces:
    kind: str
    total: int
    bounced: int

    @property
    def rate(self) -> float:
        return percent(self.bounced, self.total)


def bounces_by_kind(now: datetime.datetime) -> tuple[list[KindBounces], str]:
    """Return the bounce rate of each recipient kind over the last 90 days, and its chart."""
    since = now - datetime.timedelta(days=BOUNCE_DAYS)
    rows = (DispatchCount.objects.filter(issued_at__gte=since).values("organization_kind")
            .annotate(total=Sum("total"), bounced=Sum("bounced")).order_by("organization_kind"))  # fmt: skip
    names = dict(OrganizationKind.choices)
    kinds = [KindBounces(str(names.get(r["organization_kind"], r["organization_kind"] or "—")), r["total"], r["bounced"])
             for r in rows]  # fmt: skip
    chart = charts.bar_chart(_("Bounce rate by recipient kind (90 days)"), [k.kind for k in kinds],
                             [k.rate for k in kinds], percent=True)  # fmt: skip
    return kinds, chart


def slowest_organisations(now: datetime.datetime, limit: int = 10) -> list[dict]:
    """Return the organisations slowest to acknowledge the last 30 days' dispatches (an unacknowledged one counts
    until now), with their numbers of dispatches and unacknowledged ones."""
    recent = Dispatch.objects.filter(issued_at__gte=now - datetime.timedelta(days=SLOW_DAYS)).values("pk")
    waited = ExpressionWrapper(Coalesce("acknowledged_at", Value(now)) - F("sent_at"), output_field=DurationField())
    rows = (Delivery.objects.filter(dispatch_id__in=recent, status__in=REACHED, sent_at__isnull=False)
            .order_by().values("organization_id", "organization_name")
            .annotate(received=Count("pk"), waiting=Count("pk", filter=Q(acknowledged_at__isnull=True)),
                      average=Avg(waited))
            .order_by("-average", "organization_id")[:limit])  # fmt: skip
    return [{**row, "hours": round(row["average"].total_seconds() / 3600, 1)} for row in rows]


def cached_slowest(now: datetime.datetime, refresh: bool = False) -> list[dict]:
    """Return the slowest organisations as computed at most DASHBOARD_REFRESH_SECONDS ago (beat refreshes them):
    the one figure read from the deliveries themselves is not recomputed on every view of the page."""
    slowest = None if refresh else cache.get(SLOWEST_KEY)
    if slowest is None:
        slowest = slowest_organisations(now)
        cache.set(SLOWEST_KEY, slowest, timeout=int(settings.DASHBOARD_REFRESH_SECONDS * 2))
    return slowest


def open_corrections(limit: int = 10) -> tuple[int, list[CorrectionItem]]:
    """Return how many correction items are unresolved and the oldest of them, with their missed dispatches."""
    items = CorrectionItem.objects.unresolved()
    oldest = corrections.with_missed(items.select_related("organization").order_by("since"))[:limit]
    return items.count(), list(oldest)


def overview(now: datetime.datetime | None = None) -> dict:
    """Return everything the dashboard page shows."""
    now = now or timezone.now()
    kinds, bounce_chart = bounces_by_kind(now)
    open_count, open_items = open_corrections()
    refreshed = DispatchCount.objects.order_by("-refreshed_at").values_list("refreshed_at", flat=True).first()
    return {"counts": dispatch_counts(now), "rates_chart": rates_by_week(now), "kinds": kinds,
            "bounce_chart": bounce_chart, "slowest": cached_slowest(now), "open_count": open_count,
            "open_items": open_items, "refreshed_at": refreshed}  # fmt: skip


def dispatch_chart(dispatch: Dispatch) -> str:
    """Return the chart of a dispatch's deliveries sent and acknowledged, cumulated by hour (by day after 2 days)."""
    deliveries = Delivery.objects.filter(dispatch=dispatch).order_by()
    start = dispatch.issued_at or dispatch.created_at
    last = deliveries.aggregate(sent=latest_or("sent_at", start), ack=latest_or("acknowledged_at", start))
    end = max(last["sent"], last["ack"], start)
    step = "hour" if end - start <= datetime.timedelta(days=2) else "day"
    sent = bucket_counts(deliveries, "sent_at", step)
    acknowledged = bucket_counts(deliveries, "acknowledged_at", step)
    buckets = sorted(set(sent) | set(acknowledged)) or [timezone.localtime(start)]
    fmt = (lambda at: f"{at:%H}h {at:%d/%m}") if step == "hour" else day_month
    return charts.line_chart(_("Deliveries and acknowledgements over time"), [fmt(b) for b in buckets],
                             [charts.Series(_("sent"), cumulate(sent, buckets)),
                              charts.Series(_("acknowledged"), cumulate(acknowledged, buckets))],
                             width=560, height=200)  # fmt: skip


def latest_or(field: str, start: datetime.datetime) -> Coalesce:
    """Return the aggregate of the latest `field`, or `start` when no delivery has one."""
    return Coalesce(Max(field), Value(start))


def bucket_counts(deliveries, field: str, step: str) -> dict[datetime.datetime, int]:
    """Return how many deliveries have `field` in each hour or day (Hà Nội time)."""
    rows = (deliveries.filter(**{f"{field}__isnull": False}).annotate(bucket=Trunc(field, step))
            .values("bucket").annotate(n=Count("pk")).order_by("bucket"))  # fmt: skip
    return {timezone.localtime(row["bucket"]): row["n"] for row in rows}


def cumulate(counts: dict, buckets: list) -> list[float]:
    total, values = 0, []
    for bucket in buckets:
        total += counts.get(bucket, 0)
        values.append(float(total))
    return values
