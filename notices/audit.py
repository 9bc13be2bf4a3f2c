"""Record audit events and verify their hash chain.

`record(actor, action, obj, details, request=None)` is the one function every concern calls. It appends
to the chain inside the caller's transaction, so the event commits (or rolls back) with the change it describes.
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Model

from notices.models.audit import GENESIS_HASH, AuditEvent, normalise

log = logging.getLogger(__name__)

# Arbitrary constant key of the PostgreSQL advisory lock that serialises appends to the chain.
CHAIN_LOCK_KEY = 5_2026_0001
current_request: contextvars.ContextVar = contextvars.ContextVar("audit_current_request", default=None)


class CurrentRequestMiddleware:
    """Remember the request being served, so events recorded by model methods carry its IP address."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


def client_ip(request) -> str | None:
    """Return the client's IP address (REMOTE_ADDR; the proxy must set it, e.g. gunicorn's forwarded-allow-ips)."""
    if request is None:
        return None
    try:
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return None


def lock_chain() -> None:
    """Serialise appends until the transaction ends (SQLite transactions already take the write lock)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def actor_fields(actor) -> dict:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {"actor_id": None, "actor_name": ""}
    return {"actor_id": actor.pk, "actor_name": actor.get_username()}


def object_fields(obj) -> dict:
    if obj is None:
        return {"object_type": "", "object_id": "", "object_repr": ""}
    if isinstance(obj, Model):
        return {
            "object_type": obj._meta.concrete_model._meta.label_lower,
            "object_id": str(obj.pk or ""),
            "object_repr": str(obj)[:255],
        }
    return {"object_type": "", "object_id": "", "object_repr": str(obj)[:255]}


def record(actor, action: str, obj=None, details: dict | None = None, request=None) -> AuditEvent:
    """Append one event to the audit chain, in the current transaction, and return it.

    `actor` is a user (None or anonymous for the system), `obj` a model instance (or None), `details` any
    JSON-serialisable dict. The IP address comes from `request`, else from the request being served.
    """
    request = request if request is not None else current_request.get()
    with transaction.atomic():
        lock_chain()
        last = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
        event = AuditEvent(
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


@dataclass
class ChainReport:
    count: int
    bad_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_seq is None


def verify_chain() -> ChainReport:
    """Walk the chain in sequence order and return the first event that was changed, removed or reordered."""
    previous_hash, expected_seq, count = GENESIS_HASH, 1, 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return ChainReport(count, event.seq, f"expected event #{expected_seq} here: an event is missing")
        if event.prev_hash != previous_hash:
            return ChainReport(count, event.seq, "its previous hash does not match: events were removed or reordered")
        if event.compute_hash() != event.hash:
            return ChainReport(count, event.seq, "its content does not match its hash: it was changed")
        previous_hash, expected_seq, count = event.hash, expected_seq + 1, count + 1
    return ChainReport(count)
