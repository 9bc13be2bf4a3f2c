"""What happened to a delivery, in order: the timeline auditors read."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DeliveryEvent(models.Model):
    delivery = models.ForeignKey("notices.Delivery", models.PROTECT, related_name="events", verbose_name=_("delivery"))
    type = models.CharField(_("type"), max_length=30)
    at = models.DateTimeField(_("time"), default=timezone.now)
    detail = models.TextField(_("detail"), blank=True)
    provider_event_id = models.CharField(_("provider event id"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("delivery event")
        verbose_name_plural = _("delivery events")
        ordering = ["delivery", "at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider_event_id"],
                condition=~models.Q(provider_event_id=""),
                name="delivery_event_unique_provider_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} @ {self.at:%Y-%m-%d %H:%M:%S}"


def record_events(delivery_ids: Iterable[int], type: str, detail: str = "") -> None:
    """Write the same event for many deliveries at once, in one statement (claims, cancel, release, fan-out)."""
    ids = ", ".join(str(int(pk)) for pk in delivery_ids)
    if not ids:
        return
    delivery_table = DeliveryEvent._meta.get_field("delivery").related_model._meta.db_table
    sql = (
        f'INSERT INTO "{DeliveryEvent._meta.db_table}" (delivery_id, type, at, detail, provider_event_id) '
        f"SELECT id, %s, %s, %s, '' FROM \"{delivery_table}\" WHERE id IN ({ids})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [type, timezone.now(), detail])
