"""One email to one address, and the state machine every one of them moves through.

A delivery is a dispatch email, a test copy, a recall notice or a reminder (`kind`); all of them are claimed, sent and
recorded by the same loop (`notices.sendloop`). Every move is a conditional UPDATE that must change exactly the
rows still in an allowed source status, and writes a `DeliveryEvent`, so a duplicated task or a late webhook
changes nothing it should not, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import ClassVar, cast

from celery import current_app
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notices.models.acknowledgement_report import AcknowledgementReports
from notices.models.events import DeliveryEvent, record_events
from notices.models.search import folded_field, keep_folded


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    BOUNCED = "bounced", _("Bounced")
    COMPLAINED = "complained", _("Complained")
    FAILED = "failed", _("Failed")
    DEFERRED = "deferred", _("Deferred")
    SUPPRESSED = "suppressed", _("Suppressed")
    CANCELLED = "cancelled", _("Cancelled")


class DeliveryKind(models.TextChoices):
    DISPATCH = "dispatch", _("Dispatch")
    TEST_COPY = "test", _("Test copy")
    RECALL = "recall", _("Recall notice")
    REMINDER = "reminder", _("Reminder")


S = DeliveryStatus
# Allowed moves (from -> to). Tracking events may arrive out of order, hence the wide "delivered" sources.
TRANSITIONS: dict[str, set[DeliveryStatus]] = {
    S.QUEUED: {S.SENDING, S.CANCELLED, S.FAILED},
    S.SENDING: {S.SENT, S.FAILED, S.DEFERRED, S.QUEUED, S.CANCELLED, S.SUPPRESSED},
    S.DEFERRED: {S.SENDING, S.QUEUED, S.CANCELLED, S.FAILED, S.DELIVERED, S.BOUNCED, S.COMPLAINED},
    S.SENT: {S.DELIVERED, S.BOUNCED, S.COMPLAINED, S.FAILED, S.DEFERRED},
    S.DELIVERED: {S.BOUNCED, S.COMPLAINED},
    S.BOUNCED: {S.COMPLAINED, S.QUEUED},
    S.FAILED: {S.QUEUED},
    S.CANCELLED: {S.QUEUED},
}
# Still to be attempted by us: the dispatch is not finished while any delivery is in this state.
WAITING = Q(status__in=[S.QUEUED, S.SENDING]) | Q(status=S.DEFERRED, next_attempt_at__isnull=False)
# Waiting, but not handed to a worker's connection: what a cancel or a recall can still stop.
STOPPABLE = Q(status=S.QUEUED) | Q(status=S.DEFERRED, next_attempt_at__isnull=False)
URGENT_QUEUE, QUEUE = "send-urgent", "send"


def sources_of(target: str) -> list[str]:
    """Return the statuses a delivery may move to `target` from."""
    return [source for source, targets in TRANSITIONS.items() if target in targets]


def enqueue(delivery_ids: list[int], queue: str, countdown: float = 0) -> None:
    """Queue send tasks for the deliveries, a small batch per task (IDs only, never the PDF), by task name."""
    size = settings.SEND_BATCH_SIZE
    for i in range(0, len(delivery_ids), size):
        current_app.send_task(
            "notices.send_batch", args=[delivery_ids[i : i + size]], queue=queue, countdown=countdown or None
        )


class DeliveryQuerySet(AcknowledgementReports, models.QuerySet["Delivery"]):
    def count_by_status(self) -> models.QuerySet:
        """Return one row per status with its number of deliveries (`status`, `n`), in status order."""
        return self.order_by().values("status").annotate(n=models.Count("pk")).order_by("status")

    def transition(
        self, delivery_id: int, to: str, detail: str = "", *, from_: Iterable[str] = (), event_id: str = "", **changes
    ) -> bool:
        """Move one delivery to `to` and write its event; return False (and write nothing) if it was not in `from_`."""
        sources = list(from_) or sources_of(to)
        assert all(to in TRANSITIONS[source] for source in sources), f"{sources} -> {to} is not a transition"
        now = timezone.now()
        with transaction.atomic():
            changed = self.filter(pk=delivery_id, status__in=sources).update(status=to, updated_at=now, **changes)
            if changed == 1:
                DeliveryEvent.objects.create(delivery_id=delivery_id, type=to, at=now, detail=detail[:2000],
                                             provider_event_id=event_id)  # fmt: skip
        return changed == 1

    def move_all(self, to: str, detail: str = "", **changes) -> list[int]:
        """Move every delivery of this queryset that may go to `to`, locking them first; return their ids."""
        with transaction.atomic():
            ids = list(
                self.filter(status__in=sources_of(to))
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", flat=True)
            )
            if ids:
                Delivery.every_kind.filter(pk__in=ids).update(status=to, updated_at=timezone.now(), **changes)
                record_events(ids, to, detail)
        return ids

    def due(self) -> DeliveryQuerySet:
        """Return the deliveries a worker may claim now: queued, or deferred with their retry due."""
        return self.filter(Q(status=S.QUEUED) | Q(status=S.DEFERRED, next_attempt_at__lte=timezone.now()))

    def claim(self, delivery_ids: list[int]) -> list[int]:
        """Claim the due, unpaused deliveries among `delivery_ids`, moving them to `sending`; return their ids.

        Rows are locked (skipping rows another worker holds) before the conditional update, so a duplicated
        or replayed task claims nothing that is already claimed, sent or finished.
        """
        with transaction.atomic():
            ids = list(
                self.filter(pk__in=delivery_ids, dispatch__sending_paused_at__isnull=True)
                .due()
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if ids:
                changed = (
                    Delivery.every_kind.filter(pk__in=ids)
                    .due()
                    .update(
                        status=S.SENDING, attempts=F("attempts") + 1, next_attempt_at=None, updated_at=timezone.now()
                    )
                )
                assert changed == len(ids), "claimed rows changed under their lock"
                record_events(ids, S.SENDING)
        return ids

    def release(self, delivery_ids: list[int], detail: str) -> list[int]:
        """Give claimed deliveries back to the queue without spending an attempt; return their ids."""
        return self.filter(pk__in=delivery_ids, status=S.SENDING).move_all(S.QUEUED, detail, attempts=F("attempts") - 1)

    def record_sent(self, rows: list[tuple[int, str, datetime.datetime]]) -> int:
        """Record that the provider accepted these (id, provider message id, time) rows; return how many moved.

        Only rows still `sending` move (the conditional update re-checks each row under its lock): a webhook or
        the sweeper may have moved one first. Each moved row gets its "sent" event in the same transaction.
        """
        if not rows:
            return 0
        with transaction.atomic():
            moved = mark_sent(rows)
            record_events(moved, S.SENT)
        return len(moved)


def mark_sent(rows: list[tuple[int, str, datetime.datetime]]) -> list[int]:
    """Move the rows still `sending` to `sent` with their time and provider id; return the ids moved.

    One statement on PostgreSQL; row by row elsewhere.
    """
    now = timezone.now()
    if connection.vendor != "postgresql":
        return [pk for pk, provider_id, at in rows
                if Delivery.every_kind.filter(pk=pk, status=S.SENDING).update(
                    status=S.SENT, last_error="", updated_at=now, sent_at=at, provider_message_id=provider_id)]  # fmt: skip
    table = Delivery._meta.db_table
    values = ", ".join(["(%s::bigint, %s::varchar, %s::timestamptz)"] * len(rows))
    sql = (
        f"UPDATE \"{table}\" AS d SET status = %s, last_error = '', updated_at = %s, sent_at = v.at, "
        f"provider_message_id = v.pid FROM (VALUES {values}) AS v(id, pid, at) WHERE d.id = v.id AND d.status = %s "
        f"RETURNING d.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [S.SENT, now, *[value for row in rows for value in row], S.SENDING])
        return [pk for (pk,) in cursor.fetchall()]


DeliveryManager = models.Manager.from_queryset(DeliveryQuerySet)


class AllDeliveries(DeliveryManager["Delivery"]):
    """Deliveries of every kind (the send loop, the sweeper, the acknowledgement page)."""

    kind: str | None = None

    def get_queryset(self) -> DeliveryQuerySet:
        # The stubs type a from_queryset() manager's get_queryset() as a plain QuerySet.
        queryset = cast(DeliveryQuerySet, super().get_queryset())
        return queryset.filter(kind=self.kind) if self.kind else queryset


class DispatchDeliveries(AllDeliveries):
    """The dispatch emails only: what `dispatch.deliveries`, the admin and the exports count."""

    kind = DeliveryKind.DISPATCH


class RecallNotices(AllDeliveries):
    kind = DeliveryKind.RECALL


class Reminders(AllDeliveries):
    kind = DeliveryKind.REMINDER


class Delivery(models.Model):
    dispatch = models.ForeignKey(
        "notices.Dispatch", models.PROTECT, related_name="deliveries", verbose_name=_("dispatch")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=DeliveryKind.choices, default=DeliveryKind.DISPATCH)
    organization = models.ForeignKey(
        "recipients.Organization", models.PROTECT, null=True, related_name="deliveries", verbose_name=_("organisation")
    )
    organization_name = models.CharField(_("organisation name at issue"), max_length=255)
    # That name folded for accent-insensitive search, kept by save(), the fan-out's SQL and the recall notices.
    search_name = folded_field(_("name for search"), 255)
    address = models.EmailField(_("email address"), max_length=254)
    status = models.CharField(_("status"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=255, blank=True, db_index=True)
    created_at = models.DateTimeField(_("queued at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("receipt acknowledged at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    # Delivery engine: when a retry is due (future work is scheduled here, never as a long countdown in Redis).
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True, db_index=True)
    # A reminder: the dispatch email it reminds of (its acknowledgement link acknowledges that one) and its round.
    reminds = models.ForeignKey(
        "self", models.CASCADE, null=True, blank=True, related_name="reminders", verbose_name=_("reminds of")
    )
    reminder_round = models.PositiveSmallIntegerField(_("reminder round"), null=True, blank=True)

    # The default manager: `dispatch.deliveries`, the admin, the exports.
    objects: ClassVar[AllDeliveries] = DispatchDeliveries()
    every_kind = AllDeliveries()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["dispatch", "id"]
        constraints = [
            # One email per address and organisation: an address two organisations share receives each one's
            # copy of a personalised dispatch (the fan-out writes one row per address for any other dispatch).
            models.UniqueConstraint(
                fields=["dispatch", "address", "organization"],
                condition=Q(kind="dispatch"),
                name="delivery_one_per_organization_address",
            ),
            models.UniqueConstraint(
                fields=["dispatch", "address"], condition=Q(kind="recall"), name="delivery_one_recall_per_address"
            ),
            models.UniqueConstraint(
                fields=["reminds", "reminder_round"],
                condition=Q(kind="reminder"),
                name="delivery_one_reminder_per_round",
            ),
        ]
        # The organisation too, so a count filtered on dispatches, status and recipient kind reads the index only.
        indexes = [
            models.Index(fields=["dispatch", "status", "organization"], name="delivery_dispatch_status_org"),
            # The API's keyset pages of one dispatch's deliveries (`WHERE dispatch_id = %s AND id > %s ORDER BY id`).
            models.Index(fields=["dispatch", "id"], name="delivery_dispatch_id"),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.get_status_display()})"

    def save(self, *args, **kwargs) -> None:
        keep_folded(self, "organization_name", "search_name", kwargs)
        super().save(*args, **kwargs)

    def recall_notice(self) -> Delivery | None:
        """Return the recall notice sent to this delivery's address after its dispatch was recalled, if any."""
        return RecallNotice.objects.filter(dispatch_id=self.dispatch_id, address=self.address).first()


class RecallNotice(Delivery):
    """A recall notice: a delivery of the kind "recall", telling a recipient to discard a recalled dispatch."""

    objects: ClassVar[AllDeliveries] = RecallNotices()

    class Meta:
        proxy = True
        verbose_name = _("recall notice")
        verbose_name_plural = _("recall notices")


class Reminder(Delivery):
    """A reminder: a delivery of the kind "reminder" to an address that has not acknowledged its dispatch."""

    objects: ClassVar[AllDeliveries] = Reminders()

    class Meta:
        proxy = True
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")


RecallStatus = DeliveryStatus  # a recall notice moves through the same states as every delivery
