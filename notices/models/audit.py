"""The append-only audit trail: every staff action and system event, chained by SHA-256."""

from __future__ import annotations

import datetime
import hashlib
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AuditError(Exception):
    """Someone tried to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditError("Audit events are append-only: they cannot be updated.")

    def delete(self):
        raise AuditError("Audit events are append-only: they cannot be deleted.")

    def for_object(self, obj: models.Model) -> AuditEventQuerySet:
        """Return the events about one object."""
        return self.filter(object_type=obj._meta.concrete_model._meta.label_lower, object_id=str(obj.pk))


def normalise(details: dict | None) -> dict:
    """Return `details` as plain JSON types, exactly as the database will give them back."""
    return json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder))


class AuditEvent(models.Model):
    seq = models.PositiveBigIntegerField(_("sequence"), unique=True)
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # No database constraint: deleting a user must never touch (or be blocked by) the trail.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=50, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=255, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-seq"]
        indexes = [models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_seq")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_repr}".strip()

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AuditError("Audit events are append-only: they cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditError("Audit events are append-only: they cannot be deleted.")

    def canonical(self) -> str:
        """Return the event's content as canonical JSON: what the hash covers (with the previous hash)."""
        content = {
            "seq": self.seq,
            "at": self.at.astimezone(datetime.UTC).isoformat(),
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_repr": self.object_repr,
            "ip": self.ip,
            "details": self.details,
            "prev_hash": self.prev_hash,
        }
        return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def compute_hash(self) -> str:
        """Return SHA-256 over the canonical content and the previous hash."""
        return hashlib.sha256(self.canonical().encode()).hexdigest()
