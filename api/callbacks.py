"""Status callbacks: each delivery status change and acknowledgement of a key's dispatches, POSTed to its URL.

Nothing in the send loop waits for a client system: beat's `api.collect_callbacks` reads the new delivery events
(a keyset cursor per key over `DeliveryEvent.id` that stops before the first event not yet settled: older than
CALLBACK_SETTLE_SECONDS and than the oldest transaction still writing, see `settled_before`), writes one `Callback` row each and queues `api.send_callback` on the `callbacks` queue. Each POST is JSON
signed with HMAC-SHA256 over "<timestamp>.<body>" (headers X-Congvan-Timestamp and X-Congvan-Signature); it goes
only to a public address (loopback, private, link-local and other special addresses are refused unless in
CALLBACK_ALLOWED_NETWORKS), to the address resolved and checked (pinned: no second lookup), without redirects,
with timeouts and at most CALLBACK_MAX_ANSWER_BYTES of the answer read. Transient failures are retried with
exponential backoff; after CALLBACK_MAX_ATTEMPTS the callback is given up and shown so in the admin.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from urllib.parse import urlsplit

import urllib3
from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from api.models import ApiKey, Callback, CallbackStatus, KeyDispatch
from notices.acknowledgement import ACKNOWLEDGED
from notices.models import DeliveryEvent, DeliveryStatus

log = logging.getLogger(__name__)
CALLED_BACK = [*(s.value for s in DeliveryStatus), ACKNOWLEDGED]
SIGNATURE_HEADER, TIMESTAMP_HEADER = "X-Congvan-Signature", "X-Congvan-Timestamp"
TRANSIENT_STATUSES = {408, 425, 429}


class CallbackError(Exception):
    """A callback that did not arrive; `permanent` ones are not retried."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


# --- Collecting ------------------------------------------------------------------------------------------
def payload_of(event: DeliveryEvent) -> dict:
    delivery = event.delivery
    org = delivery.organization
    return {
        "event_id": event.pk, "type": "acknowledgement" if event.type == ACKNOWLEDGED else "status",
        "status": event.type, "at": event.at.isoformat(), "dispatch_id": delivery.dispatch_id,
        "notation": delivery.dispatch.notation, "delivery_id": delivery.pk, "kind": delivery.kind,
        "address": delivery.address, "organization_code": (org.bhxh_code or org.agency_code or org.tax_code) if org else "",
    }  # fmt: skip


def settled_before() -> datetime.datetime:
    """Return the moment before which every delivery event is already visible (committed).

    An event's id is taken when it is written, but it is seen only when its transaction commits: a long
    transaction (a fan-out page, a slow commit) can show an event with a lower id after higher ones were called
    back. Every transaction still writing began at its `xact_start` (PostgreSQL's pg_stat_activity, sessions
    holding a transaction id), and its events are stamped no earlier than that, less a margin for the clocks of
    other hosts; events stamped before the oldest such start, and CALLBACK_SETTLE_SECONDS ago, are all visible.
    """
    settled = timezone.now() - datetime.timedelta(seconds=settings.CALLBACK_SETTLE_SECONDS)
    if connection.vendor != "postgresql":
        return settled  # SQLite (the embedded default) has one writer at a time
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(xact_start) FROM pg_stat_activity "
            "WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
        )
        (oldest,) = cursor.fetchone()
    if oldest is None:
        return settled
    return min(settled, oldest - datetime.timedelta(seconds=settings.CALLBACK_CLOCK_MARGIN_SECONDS))


def collect(limit: int = 1000) -> int:
    """Write the callbacks owed for new delivery events and queue them; return how many were written."""
    settled = settled_before()
    written = 0
    for key_id in ApiKey.objects.usable().exclude(callback_url="").values_list("pk", flat=True):
        written += collect_for(key_id, settled, limit)
    return written


def collect_for(key_id: int, settled: datetime.datetime, limit: int) -> int:
    """Collect one key's callbacks, its row locked so that two collectors never write the same ones."""
    with transaction.atomic():
        key = ApiKey.objects.select_for_update(skip_locked=True).filter(pk=key_id).first()
        if key is None:
            return 0
        dispatches = KeyDispatch.objects.filter(key=key).values("dispatch_id")
        candidates = list(
            DeliveryEvent.objects.filter(pk__gt=key.callback_cursor, type__in=CALLED_BACK,
                                         delivery__dispatch__in=dispatches)
            .select_related("delivery__organization", "delivery__dispatch__issuer",
                            "delivery__dispatch__drafting_unit").order_by("pk")[:limit]
        )  # fmt: skip
        # In id order, up to the first event not yet settled: the cursor never passes one it has not called back.
        events = []
        for event in candidates:
            if event.at > settled:
                break
            events.append(event)
        if not events:
            return 0
        rows = Callback.objects.bulk_create(Callback(key=key, event_id=e.pk, payload=payload_of(e)) for e in events)
        ApiKey.objects.filter(pk=key.pk).update(callback_cursor=events[-1].pk)
        ids = [row.pk for row in rows]
        transaction.on_commit(lambda: queue_all(ids))
    return len(rows)


def queue_all(callback_ids: list[int]) -> None:
    """Queue the sending of each callback on the `callbacks` queue (by task name: ids only)."""
    for callback_id in callback_ids:
        current_app.send_task("api.send_callback", args=[callback_id], queue="callbacks")


# --- Sending ---------------------------------------------------------------------------------------------
def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of "<timestamp>.<body>" under the key's callback secret."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def allowed_address(ip: str) -> bool:
    """Return whether a callback may go to `ip`: a public address, or one in CALLBACK_ALLOWED_NETWORKS."""
    address = ipaddress.ip_address(ip)
    if any(address in ipaddress.ip_network(net, strict=False) for net in settings.CALLBACK_ALLOWED_NETWORKS):
        return True
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> str:
    """Return the address to connect to; raise CallbackError (permanent) when any address of the host is refused."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise CallbackError(f"cannot resolve {host}: {exc}") from exc
    addresses = [str(info[4][0]) for info in infos]
    refused = [a for a in addresses if not allowed_address(a)]
    if refused or not addresses:
        raise CallbackError(f"{host} resolves to an address callbacks may not go to: {', '.join(refused)}", True)
    return addresses[0]


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST `body` to `url` at the address resolved and checked once; return the HTTP status."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and settings.CALLBACK_ALLOW_HTTP):
        raise CallbackError("a callback URL must be https://", permanent=True)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    ip = resolve(host, port)
    timeout = urllib3.Timeout(connect=settings.CALLBACK_CONNECT_TIMEOUT, read=settings.CALLBACK_READ_TIMEOUT)
    pool: urllib3.HTTPConnectionPool
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(ip, port, timeout=timeout, retries=False, server_hostname=host,
                                           assert_hostname=host, cert_reqs="CERT_REQUIRED")  # fmt: skip
    else:
        pool = urllib3.HTTPConnectionPool(ip, port, timeout=timeout, retries=False)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        with pool:
            answer = pool.urlopen("POST", path, body=body, headers={**headers, "Host": parts.netloc}, redirect=False,
                                  preload_content=False, assert_same_host=False)  # fmt: skip
            answer.read(settings.CALLBACK_MAX_ANSWER_BYTES)  # the rest is never read
            answer.release_conn()
            return answer.status
    except urllib3.exceptions.HTTPError as exc:
        raise CallbackError(f"{type(exc).__name__}: {exc}") from exc


def deliver(callback_id: int) -> bool:
    """Send one pending callback; return False when it is no longer pending, raise CallbackError when it failed."""
    callback = Callback.objects.select_related("key").filter(pk=callback_id, status=CallbackStatus.PENDING).first()
    if callback is None:
        return False
    body = json.dumps(callback.payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
               SIGNATURE_HEADER: "sha256=" + sign(callback.key.callback_secret, timestamp, body)}  # fmt: skip
    Callback.objects.filter(pk=callback_id).update(attempts=callback.attempts + 1)
    try:
        status = post(callback.key.callback_url, body, headers)
    except CallbackError as exc:
        note(callback_id, str(exc))
        raise
    if 200 <= status < 300:
        Callback.objects.filter(pk=callback_id, status=CallbackStatus.PENDING).update(
            status=CallbackStatus.SENT, finished_at=timezone.now(), last_error=""
        )
        return True
    note(callback_id, f"HTTP {status}")
    raise CallbackError(f"HTTP {status}", permanent=400 <= status < 500 and status not in TRANSIENT_STATUSES)


def note(callback_id: int, error: str) -> None:
    Callback.objects.filter(pk=callback_id).update(last_error=error[:2000])


def give_up(callback_id: int, error: str) -> None:
    """Mark a callback given up (shown in the admin with its last error)."""
    log.warning("Callback %s given up: %s", callback_id, error)
    Callback.objects.filter(pk=callback_id, status=CallbackStatus.PENDING).update(
        status=CallbackStatus.FAILED, finished_at=timezone.now(), last_error=error[:2000]
    )


def backoff(retries: int) -> float:
    """Return the wait before retry number `retries` + 1: base × 2^retries, at most CALLBACK_MAX_BACKOFF_SECONDS."""
    return min(settings.CALLBACK_RETRY_BASE_SECONDS * 2**retries, settings.CALLBACK_MAX_BACKOFF_SECONDS)
