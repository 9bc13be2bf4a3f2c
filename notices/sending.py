"""Turn an issued dispatch into one delivery per recipient address, and send them exactly once each.

Every delivery moves through a small state machine (see `TRANSITIONS`); each move is a conditional
UPDATE that must change exactly one row, and writes a `DeliveryEvent`. The database is the only state
that matters: Redis merely carries IDs, and the sweeper (`sweep`) re-enqueues whatever Redis lost.
"""

from __future__ import annotations

import datetime
import logging
import random
import time
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from notices import acknowledgement, mail, signals
from notices.models import Delivery, DeliveryEvent, DeliveryStatus, Dispatch, DispatchStatus, Urgency
from notices.transports import SendError, Throttled, open_transport, provider_name
from recipients.models import Suppression

log = logging.getLogger(__name__)
S = DeliveryStatus

# Allowed moves (from -> to). Tracking events may arrive out of order, hence the wide "delivered" sources.
TRANSITIONS = {
    S.QUEUED: {S.SENDING, S.CANCELLED, S.FAILED},
    S.SENDING: {S.SENT, S.FAILED, S.DEFERRED, S.QUEUED, S.CANCELLED},
    S.DEFERRED: {S.SENDING, S.QUEUED, S.CANCELLED, S.FAILED, S.DELIVERED, S.BOUNCED, S.COMPLAINED},
    S.SENT: {S.DELIVERED, S.BOUNCED, S.COMPLAINED, S.FAILED, S.DEFERRED},
    S.DELIVERED: {S.BOUNCED, S.COMPLAINED},
    S.BOUNCED: {S.COMPLAINED, S.QUEUED},
    S.FAILED: {S.QUEUED},
    S.CANCELLED: {S.QUEUED},
}
# Still to be attempted by us: the dispatch is not finished while any delivery is in this state.
WAITING = Q(status__in=[S.QUEUED, S.SENDING]) | Q(status=S.DEFERRED, next_attempt_at__isnull=False)
URGENT = {Urgency.EXPRESS, Urgency.VERY_URGENT}


def sources_of(target: str) -> list[str]:
    """Return the statuses a delivery may move to `target` from."""
    return [source for source, targets in TRANSITIONS.items() if target in targets]


def transition(
    delivery_id: int, to: str, detail: str = "", *, from_: Iterable[str] = (), event_id: str = "", **changes
) -> bool:
    """Move one delivery to `to` and write its event; return False (and write nothing) if it was not in `from_`."""
    sources = list(from_) or sources_of(to)
    assert all(to in TRANSITIONS[source] for source in sources), f"{sources} -> {to} is not a transition"
    now = timezone.now()
    with transaction.atomic():
        changed = Delivery.objects.filter(pk=delivery_id, status__in=sources).update(
            status=to, updated_at=now, **changes
        )
        if changed == 1:
            DeliveryEvent.objects.create(delivery_id=delivery_id, type=to, at=now, detail=detail[:2000],
                                         provider_event_id=event_id)  # fmt: skip
    return changed == 1


def record_events(delivery_ids: Iterable[int], type: str, detail: str = "") -> None:
    """Write the same event for many deliveries at once (bulk moves: fan-out, claims, cancel)."""
    now = timezone.now()
    DeliveryEvent.objects.bulk_create(
        [DeliveryEvent(delivery_id=pk, type=type, at=now, detail=detail) for pk in delivery_ids], batch_size=5000
    )


def bulk_transition(queryset, to: str, detail: str = "", **changes) -> list[int]:
    """Move every delivery of `queryset` that may go to `to`, locking them first; return their ids."""
    with transaction.atomic():
        ids = list(
            queryset.filter(status__in=sources_of(to))
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)
        )
        if ids:
            Delivery.objects.filter(pk__in=ids).update(status=to, updated_at=timezone.now(), **changes)
            record_events(ids, to, detail)
    return ids


# --- Fan-out ---------------------------------------------------------------------------------


def start(dispatch_id: int) -> None:
    """Queue the fan-out of an issued dispatch (called after the issuing transaction commits)."""
    from notices import tasks

    tasks.fan_out.delay(dispatch_id)


def send_queue(dispatch: Dispatch) -> str:
    """Return the queue of the dispatch's send tasks: HỎA TỐC and THƯỢNG KHẨN go first."""
    return "send-urgent" if dispatch.urgency in URGENT else "send"


def begin_sending(dispatch: Dispatch) -> bool:
    """Mark an issued dispatch as sending (once) and tell the listeners; refuse a secret one."""
    if dispatch.is_secret:
        raise SendError("Secret dispatches are never emailed.", permanent=True)
    started = Dispatch.objects.filter(pk=dispatch.pk, status=DispatchStatus.ISSUED).update(
        status=DispatchStatus.SENDING, updated_at=timezone.now()
    )
    if started:
        signals.sending_started.send(sender=Dispatch, dispatch=dispatch)
    return bool(started)


def plan_pages(dispatch: Dispatch) -> tuple[list[tuple[str, str | None]], int]:
    """Cut the dispatch's sorted addresses into pages; return the (after, up to) bounds and the address count.

    Every page is a range of addresses, so the pages can be written in parallel by any workers, in any order.
    """
    page_sql, params = dispatch.recipient_addresses().query.sql_with_params()
    sql = (
        f"SELECT address, rn, total FROM (SELECT address, row_number() OVER (ORDER BY address) AS rn, "
        f"count(*) OVER () AS total FROM (SELECT DISTINCT address FROM ({page_sql}) q) d) r "
        f"WHERE rn %% %s = 0 OR rn = total"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, settings.SEND_FANOUT_PAGE_SIZE])
        rows = cursor.fetchall()
    total = rows[-1][2] if rows else 0
    bounds, after = [], ""
    for address, rn, _ in rows:
        if rn < total:
            bounds.append((after, address))
            after = address
    return bounds + ([(after, None)] if total else []), total


def write_page(dispatch: Dispatch, after: str, upto: str | None) -> list[int]:
    """Write the deliveries of the addresses after `after` up to `upto` (inclusive); return the new queued ids.

    Suppressed addresses are recorded with the status `suppressed`. Safe to repeat: existing rows are kept.
    """
    page = dispatch.recipient_addresses().filter(address__gt=after)
    if upto is not None:
        page = page.filter(address__lte=upto)
    if connection.vendor == "postgresql":
        return write_page_in_sql(dispatch, page)
    return write_page_in_python(dispatch, list(page))


# One statement writes a page of deliveries and their first events inside PostgreSQL: 100,000 rows built
# as Python objects would make the fan-out ten times slower. (Keep the column list in step with the models.)
FAN_OUT_SQL = """
WITH page AS ({page}),
firsts AS (SELECT DISTINCT ON (address) organization_id, organization__name, address FROM page ORDER BY address),
inserted AS (
    INSERT INTO {delivery} (dispatch_id, organization_id, organization_name, address, status, attempts,
                            last_error, provider_message_id, created_at, updated_at)
    SELECT %s, f.organization_id, f.organization__name, f.address,
           CASE WHEN EXISTS (SELECT 1 FROM {suppression} s WHERE s.lifted_at IS NULL AND lower(s.address) = f.address)
                THEN %s ELSE %s END, 0, '', '', now(), now()
    FROM firsts f
    ON CONFLICT ON CONSTRAINT delivery_one_per_address DO NOTHING
    RETURNING id, status
),
events AS (
    INSERT INTO {event} (delivery_id, type, at, detail, provider_event_id)
    SELECT id, status, now(), CASE WHEN status = %s THEN %s ELSE '' END, '' FROM inserted
)
SELECT array_agg(id ORDER BY id) FROM inserted WHERE status = %s
"""


def write_page_in_sql(dispatch: Dispatch, page) -> list[int]:
    """Write one page with one statement (PostgreSQL); return the new queued ids."""
    page_sql, page_params = page.query.sql_with_params()
    sql = FAN_OUT_SQL.format(page=page_sql, delivery=Delivery._meta.db_table, suppression=Suppression._meta.db_table,
                             event=DeliveryEvent._meta.db_table)  # fmt: skip
    params = [*page_params, dispatch.pk, S.SUPPRESSED, S.QUEUED, S.SUPPRESSED, SUPPRESSED_DETAIL, S.QUEUED]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        (queued,) = cursor.fetchone()
    return queued or []


SUPPRESSED_DETAIL = "address is on the suppression list"


def write_page_in_python(dispatch: Dispatch, rows: list) -> list[int]:
    """Write one page row by row (SQLite); return the new queued ids."""
    addresses = {address for _, _, address in rows}
    suppressed = set(Suppression.objects.active().filter(address__in=addresses).values_list("address", flat=True))
    new, seen = [], set(dispatch.deliveries.filter(address__in=addresses).values_list("address", flat=True))
    for org_id, org_name, address in rows:
        if address not in seen:
            seen.add(address)
            status = S.SUPPRESSED if address in suppressed else S.QUEUED
            new.append(Delivery(dispatch=dispatch, organization_id=org_id, organization_name=org_name,
                                address=address, status=status))  # fmt: skip
    with transaction.atomic():
        Delivery.objects.bulk_create(new, batch_size=2000)
        record_events([d.pk for d in new if d.status == S.QUEUED], S.QUEUED)
        record_events([d.pk for d in new if d.status == S.SUPPRESSED], S.SUPPRESSED, SUPPRESSED_DETAIL)
    return [d.pk for d in new if d.status == S.QUEUED]


def create_deliveries(dispatch: Dispatch) -> int:
    """Write every delivery of an issued dispatch in this process (small dispatches, tests); return how many exist.

    The workers fan out in parallel pages instead (`tasks.fan_out`). Refuses a secret dispatch.
    """
    begin_sending(dispatch)
    for after, upto in plan_pages(dispatch)[0]:
        write_page(dispatch, after, upto)
    finish_fan_out(dispatch.pk)
    return dispatch.deliveries.count()


def finish_fan_out_if_complete(dispatch_id: int, expected: int) -> None:
    """Finish the fan-out once the dispatch has a delivery for each of the `expected` addresses."""
    if Delivery.objects.filter(dispatch_id=dispatch_id).count() >= expected:
        finish_fan_out(dispatch_id)


def finish_fan_out(dispatch_id: int) -> None:
    """Note that every delivery of the dispatch is written, then finish it if nothing waits."""
    Dispatch.objects.filter(pk=dispatch_id, fanned_out_at__isnull=True).update(fanned_out_at=timezone.now())
    finish_dispatch_if_done(dispatch_id)


def enqueue(delivery_ids: list[int], queue: str, countdown: float = 0) -> None:
    """Queue send tasks for the deliveries, a small batch per task (IDs only, never the PDF)."""
    from notices import tasks

    size = settings.SEND_BATCH_SIZE
    for i in range(0, len(delivery_ids), size):
        tasks.send_batch.apply_async(args=[delivery_ids[i : i + size]], queue=queue, countdown=countdown or None)


# --- Sending -----------------------------------------------------------------------------------


def claim(delivery_ids: list[int]) -> list[int]:
    """Claim the deliveries that are due and not paused, moving them to `sending`; return their ids.

    Rows are locked (skipping rows another worker holds) before the conditional update, so a duplicated
    or replayed task claims nothing that is already claimed, sent or finished.
    """
    due = Q(status=S.QUEUED) | Q(status=S.DEFERRED, next_attempt_at__lte=timezone.now())
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(pk__in=delivery_ids, dispatch__sending_paused_at__isnull=True)
            .filter(due)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if ids:
            changed = (
                Delivery.objects.filter(pk__in=ids)
                .filter(due)
                .update(status=S.SENDING, attempts=F("attempts") + 1, next_attempt_at=None, updated_at=timezone.now())
            )
            assert changed == len(ids), "claimed rows changed under their lock"
            record_events(ids, S.SENDING)
    return ids


def retry_delay(attempt: int) -> float:
    """Return an exponential backoff with jitter for the given attempt (1-based)."""
    base = settings.SEND_RETRY_BASE_SECONDS
    return min(base * 2 ** (attempt - 1), settings.SEND_RETRY_MAX_SECONDS) * random.uniform(0.5, 1.5)


def record_failure(delivery: Delivery, error: SendError) -> None:
    """Fail a permanent error (or the last attempt) at once; defer a transient one to a later attempt."""
    if error.permanent or delivery.attempts >= settings.SEND_MAX_ATTEMPTS:
        transition(delivery.pk, S.FAILED, str(error), from_=[S.SENDING], last_error=str(error))
        return
    delay = retry_delay(delivery.attempts)
    due = timezone.now() + datetime.timedelta(seconds=delay)
    transition(delivery.pk, S.DEFERRED, str(error), from_=[S.SENDING], last_error=str(error), next_attempt_at=due)
    if delay <= settings.SEND_MAX_COUNTDOWN_SECONDS:
        # A short wait rides on the broker; a longer one waits in the database for the sweeper.
        enqueue([delivery.pk], send_queue(delivery.dispatch), countdown=delay)


def record_throttled(delivery: Delivery, error: Throttled, bucket) -> None:
    """Slow the provider's shared bucket and put the delivery back, without spending one of its attempts."""
    bucket.slow_down()
    due = timezone.now() + datetime.timedelta(seconds=settings.SEND_THROTTLE_RETRY_SECONDS)
    transition(delivery.pk, S.DEFERRED, str(error), from_=[S.SENDING], last_error=str(error), next_attempt_at=due,
               attempts=F("attempts") - 1)  # fmt: skip
    enqueue([delivery.pk], send_queue(delivery.dispatch), countdown=settings.SEND_THROTTLE_RETRY_SECONDS)


class Accepted:
    """Messages the provider accepted whose `sent` is not committed yet.

    The window between the provider accepting a message and our commit is where a dying worker causes a
    duplicate: the row is still `sending`, the sweeper requeues it, and the recipient gets a second copy
    with the same Message-ID (which mail clients can recognise). We keep it short and bounded: accepted
    messages are committed together at most SEND_COMMIT_EVERY messages or SEND_COMMIT_SECONDS later,
    before a pause gives rows back, and whatever happens to the batch (`finally`). One commit per message
    would make the database, not the mail server, the bottleneck (each commit waits for a WAL flush).
    """

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, datetime.datetime]] = []
        self.since = 0.0

    def add(self, delivery_id: int, provider_message_id: str) -> None:
        """Note an accepted message; commit the notes when there are enough or the oldest is old enough."""
        if not self.rows:
            self.since = time.monotonic()
        self.rows.append((delivery_id, provider_message_id, timezone.now()))
        if len(self.rows) >= settings.SEND_COMMIT_EVERY:
            self.flush()

    def flush_if_old(self) -> None:
        """Commit the notes if the oldest has waited SEND_COMMIT_SECONDS."""
        if self.rows and time.monotonic() - self.since >= settings.SEND_COMMIT_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Move the noted deliveries from `sending` to `sent` and write their events, in one transaction."""
        if self.rows:
            record_sent(self.rows)
            self.rows = []


def record_sent(rows: list[tuple[int, str, datetime.datetime]]) -> int:
    """Record that the provider accepted these (delivery id, provider message id, time) rows; return how many moved."""
    with transaction.atomic():
        ids = set(
            Delivery.objects.filter(pk__in=[pk for pk, _, _ in rows], status=S.SENDING)
            .select_for_update(of=("self",))
            .values_list("pk", flat=True)
        )
        rows = [row for row in rows if row[0] in ids]
        if not rows:
            return 0
        mark_sent(rows)
        DeliveryEvent.objects.bulk_create(DeliveryEvent(delivery_id=pk, type=S.SENT, at=at) for pk, _, at in rows)
    return len(rows)


def is_paused(dispatch_id: int) -> bool:
    """Return whether the operator paused the dispatch."""
    return Dispatch.objects.filter(pk=dispatch_id, sending_paused_at__isnull=False).exists()


def release(delivery_ids: list[int]) -> None:
    """Give claimed deliveries back to the queue (the dispatch was paused), without spending an attempt."""
    queryset = Delivery.objects.filter(pk__in=delivery_ids, status=S.SENDING)
    bulk_transition(queryset, S.QUEUED, "paused by the operator", attempts=F("attempts") - 1)


def mark_sent(rows: list[tuple[int, str, datetime.datetime]]) -> None:
    """Set status, time and provider id of locked `sending` rows: one statement on PostgreSQL."""
    now = timezone.now()
    if connection.vendor != "postgresql":
        for pk, provider_id, at in rows:
            Delivery.objects.filter(pk=pk).update(status=S.SENT, last_error="", updated_at=now, sent_at=at,
                                                  provider_message_id=provider_id)  # fmt: skip
        return
    table = Delivery._meta.db_table
    values = ", ".join(["(%s::bigint, %s::varchar, %s::timestamptz)"] * len(rows))
    sql = (
        f"UPDATE \"{table}\" AS d SET status = %s, last_error = '', updated_at = %s, sent_at = v.at, "
        f"provider_message_id = v.pid FROM (VALUES {values}) AS v(id, pid, at) WHERE d.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [S.SENT, now, *[value for row in rows for value in row]])


def send_batch(delivery_ids: list[int]) -> int:
    """Claim and send a small batch of deliveries over one connection; return how many were sent."""
    claimed = claim(delivery_ids)
    if not claimed:
        log.info("Deliveries %s: nothing to claim (a duplicate or replayed task)", delivery_ids[:3])
        return 0
    deliveries = list(Delivery.objects.filter(pk__in=claimed).order_by("pk"))
    dispatch = Dispatch.objects.get(pk=deliveries[0].dispatch_id)  # one batch, one dispatch: loaded once
    for delivery in deliveries:
        delivery.dispatch = dispatch
    if dispatch.is_secret:  # the second guard: fan-out refuses these too
        for delivery in deliveries:
            record_failure(delivery, SendError("Secret dispatches are never emailed.", permanent=True))
        return 0
    sent = send_claimed(deliveries, dispatch)
    finish_dispatch_if_done(dispatch.pk)
    return sent


def send_claimed(deliveries: list[Delivery], dispatch: Dispatch) -> int:
    """Send claimed deliveries of one dispatch in order, checking now and then whether it was paused."""
    from notices.ratelimit import TokenBucket

    shared = mail.for_dispatch(dispatch.pk)
    bucket, tokens, sent, checked = TokenBucket(provider_name()), 0, 0, time.monotonic()
    accepted = Accepted()
    with open_transport() as transport:
        try:
            for i, delivery in enumerate(deliveries):
                accepted.flush_if_old()
                if time.monotonic() - checked > 1:
                    checked = time.monotonic()
                    if is_paused(dispatch.pk):
                        accepted.flush()
                        release([d.pk for d in deliveries[i:]])
                        break
                tokens = tokens or bucket.acquire(min(len(deliveries) - i, settings.SEND_RATE_TAKE))
                tokens -= 1
                sent += send_claimed_one(delivery, shared, transport, bucket, accepted)
        finally:
            accepted.flush()
    return sent


def send_claimed_one(delivery: Delivery, shared: mail.DispatchMail, transport, bucket, accepted: Accepted) -> int:
    """Send one claimed delivery and note or record the outcome; return 1 if the provider accepted it."""
    msg_id = mail.message_id(delivery.pk, delivery.dispatch_id)
    try:
        provider_id = transport.send(shared, delivery.address, msg_id, delivery.organization_name,
                                     acknowledgement.url(delivery.pk))  # fmt: skip
    except Throttled as exc:
        record_throttled(delivery, exc, bucket)
        return 0
    except SendError as exc:
        record_failure(delivery, exc)
        return 0
    accepted.add(delivery.pk, provider_id)  # committed within SEND_COMMIT_EVERY messages (see Accepted)
    return 1


def send_test_copy(dispatch_id: int, address: str) -> str:
    """Send one copy marked TEST to `address`: no delivery row, not counted, not in the register."""
    dispatch = Dispatch.objects.select_related("issuer", "drafting_unit").get(pk=dispatch_id)
    if dispatch.is_secret:
        raise SendError("Secret dispatches are never emailed.", permanent=True)
    shared = mail.for_dispatch(dispatch_id)
    msg_id = mail.message_id(f"test-{int(time.time() * 1000)}", dispatch_id)
    with open_transport() as transport:
        return transport.send(shared, address, msg_id, "BẢN THỬ (TEST)", settings.PUBLIC_BASE_URL + "/",
                              subject=f"[TEST] {shared.subject}")  # fmt: skip


def finish_dispatch_if_done(dispatch_id: int) -> bool:
    """Mark the dispatch sent (or partly failed) once every delivery is written and none waits any more."""
    fanned_out = Dispatch.objects.filter(pk=dispatch_id, fanned_out_at__isnull=False).exists()
    deliveries = Delivery.objects.filter(dispatch_id=dispatch_id)
    if not fanned_out or deliveries.filter(WAITING).exists():
        return False
    failed = deliveries.filter(status__in=[S.FAILED, S.CANCELLED]).exists()
    final = DispatchStatus.PARTLY_FAILED if failed else DispatchStatus.SENT
    finished = Dispatch.objects.filter(pk=dispatch_id, status=DispatchStatus.SENDING).update(
        status=final, updated_at=timezone.now()
    )
    if finished:
        signals.sending_finished.send(sender=Dispatch, dispatch=Dispatch.objects.get(pk=dispatch_id))
    return bool(finished)


# --- Operator controls -------------------------------------------------------------------------


def pause(dispatch: Dispatch) -> bool:
    """Stop claiming the dispatch's deliveries; messages already handed to the provider stay sent."""
    return bool(
        Dispatch.objects.filter(pk=dispatch.pk, status=DispatchStatus.SENDING, sending_paused_at__isnull=True).update(
            sending_paused_at=timezone.now()
        )
    )


def resume(dispatch: Dispatch) -> int:
    """Lift a pause and queue the waiting deliveries again; return how many."""
    resumed = Dispatch.objects.filter(pk=dispatch.pk, sending_paused_at__isnull=False).update(sending_paused_at=None)
    if not resumed:
        return 0
    return requeue_waiting(dispatch)


def requeue_waiting(dispatch: Dispatch) -> int:
    """Queue send tasks for every queued delivery of the dispatch (duplicates are harmless)."""
    ids = list(dispatch.deliveries.filter(status=S.QUEUED).order_by("pk").values_list("pk", flat=True))
    dispatch.deliveries.filter(pk__in=ids).update(updated_at=timezone.now())
    transaction.on_commit(lambda: enqueue(ids, send_queue(dispatch)))
    return len(ids)


def cancel(dispatch: Dispatch) -> int:
    """Cancel every delivery not yet handed to the provider; return how many were cancelled."""
    waiting = dispatch.deliveries.filter(Q(status=S.QUEUED) | Q(status=S.DEFERRED, next_attempt_at__isnull=False))
    ids = bulk_transition(waiting, S.CANCELLED, "cancelled by the operator", next_attempt_at=None)
    Dispatch.objects.filter(pk=dispatch.pk).update(sending_paused_at=None)
    finish_dispatch_if_done(dispatch.pk)
    return len(ids)


def resend_undelivered(dispatch: Dispatch) -> int:
    """Queue again the deliveries that failed or were cancelled (not suppressed addresses); return how many."""
    suppressed = Suppression.objects.active().values("address")
    again = dispatch.deliveries.filter(status__in=[S.FAILED, S.CANCELLED]).exclude(address__in=suppressed)
    with transaction.atomic():
        ids = bulk_transition(again, S.QUEUED, "resent by the operator", attempts=0, last_error="")
        if ids:
            Dispatch.objects.filter(
                pk=dispatch.pk, status__in=[DispatchStatus.SENT, DispatchStatus.PARTLY_FAILED]
            ).update(status=DispatchStatus.SENDING, sending_paused_at=None, updated_at=timezone.now())
            transaction.on_commit(lambda: enqueue(ids, send_queue(dispatch)))
    return len(ids)


def progress(dispatch: Dispatch) -> dict:
    """Return the dispatch's delivery counts by status, for the live progress panel."""
    counts = dict(dispatch.deliveries.values_list("status").annotate(n=Count("pk")).order_by())
    return {
        "status": dispatch.get_status_display(),
        "paused": bool(dispatch.sending_paused_at),
        "total": sum(counts.values()),
        "counts": [{"status": str(label), "code": code, "n": counts.get(code, 0)} for code, label in S.choices],
    }


# --- Sweeper ---------------------------------------------------------------------------------


def sweep(queue_is_empty) -> dict:
    """Re-enqueue what Redis lost or a dead worker left, and time out what is far too old.

    - `sending` for longer than SEND_STUCK_SECONDS: the worker died; back to `queued` and enqueued.
    - `deferred` whose retry is due: enqueued (retries wait in the database, not in Redis).
    - `queued` untouched for SEND_STUCK_SECONDS while the send queues are empty: the task was lost
      (e.g. Redis restarted); enqueued again. Duplicated tasks are harmless: they claim nothing.
    - anything still waiting SEND_GIVE_UP_SECONDS after it was queued: failed, "timed out".
    - a dispatch whose fan-out has not finished SEND_STUCK_SECONDS after its last progress: fanned out again.
    Safe while workers run: every move is a conditional update on locked rows.
    """
    now = timezone.now()
    stuck_before = now - datetime.timedelta(seconds=settings.SEND_STUCK_SECONDS)
    too_old = now - datetime.timedelta(seconds=settings.SEND_GIVE_UP_SECONDS)
    timed_out = bulk_transition(Delivery.objects.filter(WAITING, created_at__lt=too_old), S.FAILED,
                                "timed out", last_error="timed out", next_attempt_at=None)  # fmt: skip
    stuck = bulk_transition(
        Delivery.objects.filter(status=S.SENDING, updated_at__lt=stuck_before), S.QUEUED, "requeued by the sweeper"
    )
    due = Delivery.objects.filter(status=S.DEFERRED, next_attempt_at__lte=now)
    lost = Delivery.objects.filter(status=S.QUEUED, updated_at__lt=stuck_before, dispatch__sending_paused_at=None)
    again = list(due.values_list("pk", "dispatch_id")[: settings.SEND_SWEEP_LIMIT])
    if queue_is_empty():
        again += list(lost.values_list("pk", "dispatch_id")[: settings.SEND_SWEEP_LIMIT])
    again += list(Delivery.objects.filter(pk__in=stuck).values_list("pk", "dispatch_id"))
    Delivery.objects.filter(pk__in=[pk for pk, _ in again], status=S.QUEUED).update(updated_at=now)
    requeue_by_dispatch(again)
    restarted = restart_stalled_fan_outs(stuck_before)
    for dispatch_id in {d for (d,) in Delivery.objects.filter(pk__in=timed_out).values_list("dispatch_id")}:
        finish_dispatch_if_done(dispatch_id)
    return {"timed_out": len(timed_out), "stuck": len(stuck), "enqueued": len(again), "fan_outs": restarted}


def restart_stalled_fan_outs(before: datetime.datetime) -> int:
    """Queue the fan-out again of dispatches whose fan-out task was lost (it is safe to repeat)."""
    from notices import tasks

    stalled = Dispatch.objects.filter(
        fanned_out_at__isnull=True,
        secrecy="",
        status__in=[DispatchStatus.ISSUED, DispatchStatus.SENDING],
        updated_at__lt=before,
    )
    ids = list(stalled.values_list("pk", flat=True))
    for dispatch_id in ids:
        Dispatch.objects.filter(pk=dispatch_id).update(updated_at=timezone.now())
        tasks.fan_out.delay(dispatch_id)
    return len(ids)


def requeue_by_dispatch(rows: list[tuple[int, int]]) -> None:
    """Enqueue (delivery id, dispatch id) rows on each dispatch's send queue."""
    by_dispatch: dict[int, list[int]] = {}
    for pk, dispatch_id in rows:
        by_dispatch.setdefault(dispatch_id, []).append(pk)
    for dispatch in Dispatch.objects.filter(pk__in=by_dispatch):
        enqueue(sorted(set(by_dispatch[dispatch.pk])), send_queue(dispatch))
