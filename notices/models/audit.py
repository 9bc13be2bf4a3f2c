"""The append-only audit trail: every staff action and system event, chained by SHA-256."""

from __future__ import annotations

import contextvars
import datetime
import hashlib
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notices.clients import client_ip

log = logging.getLogger(__name__)
GENESIS_HASH = "0" * 64
# Arbitrary constant key of the PostgreSQL advisory lock that serialises appends to the chain.
CHAIN_LOCK_KEY = 5_2026_0001
# The request being served (set by notices.audit.CurrentRequestMiddleware), so events carry its IP address.
current_request: contextvars.ContextVar = contextvars.ContextVar("audit_current_request", default=None)


class AuditError(Exception):
    """Someone tried to change or delete an audit event."""


@dataclass
class ChainReport:
    count: int
    bad_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_seq is None


def normalise(details: dict | None) -> dict:
    """Return `details` as plain JSON types, exactly as the database will give them back."""
    return json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder))


def actor_fields(actor) -> dict:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {"actor_id": None, "actor_name": ""}
    return {"actor_id": actor.pk, "actor_name": actor.get_username()}


def concrete_label(obj: models.Model) -> str:
    """Return the label of `obj`'s concrete model (a proxy's events are filed under the model it stands for)."""
    concrete = obj._meta.concrete_model
    assert concrete is not None  # set on every model class once Django has loaded it
    return concrete._meta.label_lower


def object_fields(obj) -> dict:
    if obj is None:
        return {"object_type": "", "object_id": "", "object_repr": ""}
    if isinstance(obj, models.Model):
        return {
            "object_type": concrete_label(obj),
            "object_id": str(obj.pk or ""),
            "object_repr": str(obj)[:255],
        }
    return {"object_type": "", "object_id": "", "object_repr": str(obj)[:255]}


def lock_chain() -> None:
    """Serialise appends until the transaction ends (SQLite transactions already take the write lock)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs):
        raise AuditError("Audit events are append-only: they cannot be updated.")

    def delete(self):
        raise AuditError("Audit events are append-only: they cannot be deleted.")

    def for_object(self, obj: models.Model) -> AuditEventQuerySet:
        """Return the events about one object."""
        return self.filter(object_type=concrete_label(obj), object_id=str(obj.pk))

    def record(self, actor, action: str, obj=None, details: dict | None = None, request=None) -> AuditEvent:
        """Append one event to the audit chain, in the current transaction, and return it.

        `actor` is a user (None or anonymous for the system), `obj` a model instance (or None), `details` any
        JSON-serialisable dict. The IP address comes from `request`, else from the request being served.
        """
        request = request if request is not None else current_request.get()
        with transaction.atomic(using=self.db):
            lock_chain()
            last = self.order_by("-seq").values("seq", "hash").first()
            event = self.model(
                seq=(last["seq"] + 1) if last else 1,
                action=action,
                ip=client_ip(request),
                details=normalise(details),
                prev_hash=last["hash"] if last else GENESIS_HASH,
                **actor_fields(actor),
                **object_fields(obj),
            )
            event.hash = event.compute_hash()
            event.save()
        log.debug("Audit %s %s by %s", event.seq, action, event.actor_name or "system")
        return event

    def verify_chain(self) -> ChainReport:
        """Walk the chain in sequence order and return the first event that was changed, removed or reordered."""
        previous_hash, expected_seq, count = GENESIS_HASH, 1, 0
        for event in self.order_by("seq").iterator(chunk_size=2000):
            if event.seq != expected_seq:
                return ChainReport(count, event.seq, f"expected event #{expected_seq} here: an event is missing")
            if event.prev_hash != previous_hash:
                return ChainReport(
                    count, event.seq, "its previous hash does not match: events were removed or reordered"
                )
            if event.compute_hash() != event.hash:
                return ChainReport(count, event.seq, "its content does not match its hash: it was changed")
            previous_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
        return ChainReport(count)


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
