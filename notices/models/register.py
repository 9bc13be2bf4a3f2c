"""Read-only views of dispatches and deliveries for the records office and auditors (proxy models)."""

from __future__ import annotations

from typing import ClassVar

from django.db.models import Case, Count, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from notices.models.copies import DispatchCopy
from notices.models.delivery import AllDeliveries, Delivery
from notices.models.dispatch import Dispatch, DispatchQuerySet


def delivery_count(**filters) -> Coalesce:
    """Return a per-dispatch count of deliveries as a correlated subquery (evaluated for shown rows only)."""
    rows = Delivery.objects.filter(dispatch=OuterRef("pk"), **filters).order_by().values("dispatch")
    count = rows.annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(count, output_field=IntegerField()), Value(0))


def copy_count() -> Coalesce:
    """Return a per-dispatch count of the signed copies of a personalised dispatch (a correlated subquery)."""
    rows = DispatchCopy.objects.filter(dispatch=OuterRef("pk")).order_by().values("dispatch")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), Value(0))


def first_sent() -> Subquery:
    """Return when the dispatch's first email left, read from the (dispatch, sent_at) index."""
    rows = Delivery.objects.filter(dispatch=OuterRef("pk"), sent_at__isnull=False).order_by("sent_at")
    return Subquery(rows.values("sent_at")[:1])


class RegisterQuerySet(DispatchQuerySet):
    def with_delivery_stats(self) -> RegisterQuerySet:
        """Return the entries with their copies, acknowledged copies and first sending time.

        A personalised dispatch is one entry (one number) whose copies are its signed copies, one per organisation
        (however many addresses each has); another dispatch's copies are the emails it sends.
        """
        copies = Case(When(personalised=True, then=copy_count()), default=delivery_count(), output_field=IntegerField())
        return self.annotate(
            copies=copies, acknowledged=delivery_count(acknowledged_at__isnull=False), sent_on=first_sent()
        )


class OutgoingRegister(Dispatch):
    """The outgoing register (sổ đăng ký văn bản đi): every issued dispatch with the Decree's columns."""

    # A narrower manager than Dispatch's: the stubs type each as_manager() as its own class.
    objects = RegisterQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        proxy = True
        verbose_name = _("outgoing register entry")
        verbose_name_plural = _("outgoing register")


class SendRecord(Delivery):
    """The send history auditors search: one row per delivery of every kind (dispatch emails, test copies, recall
    notices), with its timeline."""

    objects: ClassVar[AllDeliveries] = AllDeliveries()

    class Meta:
        proxy = True
        verbose_name = _("send record")
        verbose_name_plural = _("send history")
