"""The dashboard's summary table: per dispatch and recipient kind, how many deliveries reached, bounced, were
acknowledged.

The communications lead's page reads a few thousand of these rows instead of a million deliveries. Beat
recomputes the rows of recently issued dispatches (`refresh`, one grouped query over the dispatch index), so a
late bounce or acknowledgement is counted within DASHBOARD_REFRESH_SECONDS.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, ExpressionWrapper, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notices.models.choices import DispatchStatus
from notices.models.delivery import Delivery, DeliveryStatus
from notices.models.dispatch import Dispatch

S = DeliveryStatus
REACHED = [S.SENT, S.DELIVERED]
BOUNCED = [S.BOUNCED, S.COMPLAINED]
COUNTED_DISPATCHES = [DispatchStatus.SENDING, DispatchStatus.SENT, DispatchStatus.PARTLY_FAILED]


class DispatchCountQuerySet(models.QuerySet["DispatchCount"]):
    def refresh(self, dispatch_ids: list[int]) -> int:
        """Recompute the rows of these dispatches from their deliveries; return how many rows were written."""
        delay = ExpressionWrapper(F("acknowledged_at") - F("sent_at"), output_field=models.DurationField())
        grouped = (
            Delivery.objects.filter(dispatch_id__in=dispatch_ids)
            .order_by()
            .values("dispatch_id", "dispatch__issued_at", "organization__kind")
            .annotate(
                total=Count("pk"),
                reached=Count("pk", filter=Q(status__in=REACHED)),
                bounced=Count("pk", filter=Q(status__in=BOUNCED)),
                failed=Count("pk", filter=Q(status=S.FAILED)),
                suppressed=Count("pk", filter=Q(status=S.SUPPRESSED)),
                acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False)),
                acknowledgement_delay=Sum(delay, filter=Q(acknowledged_at__isnull=False, sent_at__isnull=False)),
            )
        )
        rows = [DispatchCount(**counts_of(dict(row))) for row in grouped]
        with transaction.atomic():
            self.filter(dispatch_id__in=dispatch_ids).delete()
            DispatchCount.objects.bulk_create(rows)
        return len(rows)

    def refresh_recent(self, now: datetime.datetime | None = None) -> int:
        """Recompute the rows of the dispatches issued in the last DASHBOARD_WINDOW_DAYS (beat's task)."""
        since = (now or timezone.now()) - datetime.timedelta(days=settings.DASHBOARD_WINDOW_DAYS)
        dispatches = Dispatch.objects.filter(issued_at__gte=since, status__in=COUNTED_DISPATCHES)
        return self.refresh(list(dispatches.values_list("pk", flat=True)))


def counts_of(row: dict) -> dict:
    """Return the fields of one summary row from one grouped row of the deliveries."""
    renamed = {"dispatch_id": row.pop("dispatch_id"), "issued_at": row.pop("dispatch__issued_at"),
               "organization_kind": row.pop("organization__kind") or "",
               "acknowledgement_delay": row.pop("acknowledgement_delay") or datetime.timedelta()}  # fmt: skip
    return {**row, **renamed}


class DispatchCount(models.Model):
    dispatch = models.ForeignKey("notices.Dispatch", models.CASCADE, related_name="+", verbose_name=_("dispatch"))
    issued_at = models.DateTimeField(_("issued at"), null=True, db_index=True)
    organization_kind = models.CharField(_("recipient kind"), max_length=20, blank=True)
    total = models.PositiveIntegerField(_("deliveries"), default=0)
    reached = models.PositiveIntegerField(_("sent or delivered"), default=0)
    bounced = models.PositiveIntegerField(_("bounced or complained"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    suppressed = models.PositiveIntegerField(_("suppressed"), default=0)
    acknowledged = models.PositiveIntegerField(_("acknowledged"), default=0)
    acknowledgement_delay = models.DurationField(_("total time to acknowledge"), default=datetime.timedelta)
    refreshed_at = models.DateTimeField(_("refreshed at"), default=timezone.now)

    objects = DispatchCountQuerySet.as_manager()

    class Meta:
        verbose_name = _("dispatch count")
        verbose_name_plural = _("dispatch counts")
        permissions = [("view_dashboard", _("Can view the communications dashboard"))]
        constraints = [
            models.UniqueConstraint(fields=["dispatch", "organization_kind"], name="dispatch_count_one_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.dispatch_id} {self.organization_kind}: {self.total}"
