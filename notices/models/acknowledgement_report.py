"""Who has acknowledged a dispatch: counts by recipient kind and area, and the list of those overdue.

An organisation has acknowledged when any of its addresses did (one reader confirms for the office). Every figure
is one aggregate query over the dispatch's deliveries (the index on dispatch, status and organisation), never a
loop over rows. Used by the dispatch page, the auditors' export and the reminders (`notices.reminders`).
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

AGENCY_TIMEZONE = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
DISPATCH_KIND = "dispatch"  # DeliveryKind.DISPATCH (delivery.py imports this module)


@dataclass(frozen=True)
class ReportRow:
    """The organisations of one recipient kind and area: how many, how many acknowledged, not yet, overdue."""

    kind: str
    area: str
    organizations: int
    acknowledged: int
    not_yet: int
    overdue: int


@dataclass
class AcknowledgementReport:
    deadline: datetime.date | None
    is_past_deadline: bool
    rows: list[ReportRow] = field(default_factory=list)

    @property
    def organizations(self) -> int:
        return sum(row.organizations for row in self.rows)

    @property
    def acknowledged(self) -> int:
        return sum(row.acknowledged for row in self.rows)

    @property
    def not_yet(self) -> int:
        return sum(row.not_yet for row in self.rows)

    @property
    def overdue(self) -> int:
        return sum(row.overdue for row in self.rows)


def past_deadline(deadline: datetime.date | None) -> bool:
    """Return whether the acknowledgement deadline (the end of that day in Hà Nội) has passed."""
    return deadline is not None and timezone.now().astimezone(AGENCY_TIMEZONE).date() > deadline


class AcknowledgementReports:
    """The acknowledgement figures of a dispatch, on the delivery queryset."""

    def of_dispatch(self, dispatch):
        """Return the dispatch emails (not test copies, recall notices or reminders) of `dispatch`."""
        return self.filter(dispatch=dispatch, kind=DISPATCH_KIND, organization__isnull=False)  # type: ignore[attr-defined]

    def acknowledgement_report(self, dispatch) -> AcknowledgementReport:
        """Return the organisations acknowledged, not yet and overdue, by recipient kind and area (one query)."""
        overdue = past_deadline(dispatch.acknowledge_by)
        per_organization = (
            self.of_dispatch(dispatch)
            .order_by()
            .values("organization__kind", "organization__area")
            .annotate(
                total=Count("organization", distinct=True),
                acked=Count("organization", distinct=True, filter=Q(acknowledged_at__isnull=False)),
            )
            .order_by("organization__kind", "organization__area")
        )
        report = AcknowledgementReport(dispatch.acknowledge_by, overdue)
        for row in per_organization:
            not_yet = row["total"] - row["acked"]
            report.rows.append(ReportRow(row["organization__kind"], row["organization__area"], row["total"],
                                         row["acked"], not_yet, not_yet if overdue else 0))  # fmt: skip
        return report

    def unacknowledged_organizations(self, dispatch) -> models.QuerySet:
        """Return one row per organisation none of whose addresses acknowledged the dispatch, by name."""
        return (
            self.of_dispatch(dispatch)
            .order_by()
            .values(
                "organization_id",
                "organization__name",
                "organization__kind",
                "organization__area",
                "organization__phone",
            )  # fmt: skip
            .annotate(
                acked=Max("acknowledged_at"),
                address=Min("address"),
                sent=Max("sent_at"),
                reminders=Count("reminders", distinct=True),
            )
            .filter(acked__isnull=True)
            .order_by("organization__name", "organization_id")
        )
