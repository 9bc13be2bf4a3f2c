"""One email to one address: the per-recipient record auditors ask about."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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


class DeliveryQuerySet(models.QuerySet):
    def claim(self, pk: int, from_status: str, to_status: str, **changes) -> bool:
        """Move one delivery from `from_status` to `to_status`; return False if it was not in `from_status`.

        The conditional UPDATE changes exactly one row or none, so two workers holding the same
        task cannot both act on it, on PostgreSQL and SQLite alike.
        """
        changed = self.filter(pk=pk, status=from_status).update(status=to_status, updated_at=timezone.now(), **changes)
        return changed == 1


class Delivery(models.Model):
    dispatch = models.ForeignKey("notices.Dispatch", models.PROTECT, related_name="deliveries")
    organization = models.ForeignKey(
        "recipients.Organization", models.PROTECT, null=True, related_name="deliveries", verbose_name=_("organisation")
    )
    organization_name = models.CharField(_("organisation name at issue"), max_length=255)
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

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["dispatch", "id"]
        constraints = [models.UniqueConstraint(fields=["dispatch", "address"], name="delivery_one_per_address")]
        indexes = [models.Index(fields=["dispatch", "status"], name="delivery_dispatch_status")]

    def __str__(self) -> str:
        return f"{self.address} ({self.get_status_display()})"
