"""The send loop: claim a batch → build each message → send it through the transport → record the outcome.

Dispatch emails, test copies, recall notices and reminders all go through here, under the shared rate limit (one Redis
token bucket per transport) and the suppression list. Accepted messages are committed together, at most
SEND_COMMIT_EVERY messages or SEND_COMMIT_SECONDS after the provider accepted them (see `Accepted`).
"""

from __future__ import annotations

import datetime
import logging
import random
import time

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from notices import mail, recall
from notices.metrics import MESSAGES_SENT
from notices.models import Delivery, DeliveryKind, DeliveryStatus, Dispatch, DispatchCopy, DispatchStatus
from notices.models.delivery import enqueue
from notices.ratelimit import TokenBucket
from notices.transports import Throttled, Transport, TransportError, open_transport, transport_name
from recipients.models import Suppression

log = logging.getLogger(__name__)
S = DeliveryStatus
# Our own infrastructure failing for a moment (Redis restarting under the rate limit or the queue): not the
# recipients' fault, so their deliveries wait in the database and the sweeper takes them up again.
INFRASTRUCTURE_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                         kombu.exceptions.OperationalError)  # fmt: skip
clock = time.monotonic  # the loop's clock (tests replace it to make "a second has passed" happen)
PAUSE_CHECK_SECONDS = 1.0
NO_COPY = "The personalised dispatch has no copy for this organisation."


def retry_delay(attempt: int) -> float:
    """Return an exponential backoff with jitter for the given attempt (1-based)."""
    base = settings.SEND_RETRY_BASE_SECONDS
    return min(base * 2 ** (attempt - 1), settings.SEND_RETRY_MAX_SECONDS) * random.uniform(0.5, 1.5)


def record_failure(delivery: Delivery, error: TransportError, queue: str) -> None:
    """Fail a permanent error (or the last attempt) at once; defer a transient one to a later attempt."""
    reason = str(error)
    if error.permanent or delivery.attempts >= settings.SEND_MAX_ATTEMPTS:
        Delivery.every_kind.transition(delivery.pk, S.FAILED, reason, from_=[S.SENDING], last_error=reason)
        return
    delay = retry_delay(delivery.attempts)
    due = timezone.now() + datetime.timedelta(seconds=delay)
    Delivery.every_kind.transition(delivery.pk, S.DEFERRED, reason, from_=[S.SENDING], last_error=reason,
                                   next_attempt_at=due)  # fmt: skip
    if delay <= settings.SEND_MAX_COUNTDOWN_SECONDS:
        # A short wait rides on the broker; a longer one waits in the database for the sweeper.
        enqueue([delivery.pk], queue, countdown=delay)


def record_throttled(delivery: Delivery, error: Throttled, bucket: TokenBucket, queue: str) -> None:
    """Slow the provider's shared bucket and put the delivery back, without spending one of its attempts."""
    bucket.slow_down()
    due = timezone.now() + datetime.timedelta(seconds=settings.SEND_THROTTLE_RETRY_SECONDS)
    Delivery.every_kind.transition(delivery.pk, S.DEFERRED, str(error), from_=[S.SENDING], last_error=str(error),
                                   next_attempt_at=due, attempts=F("attempts") - 1)  # fmt: skip
    enqueue([delivery.pk], queue, countdown=settings.SEND_THROTTLE_RETRY_SECONDS)


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
        """Note an accepted message; commit the notes when there are enough."""
        if not self.rows:
            self.since = clock()
        self.rows.append((delivery_id, provider_message_id, timezone.now()))
        if len(self.rows) >= settings.SEND_COMMIT_EVERY:
            self.flush()

    def flush_if_old(self) -> None:
        """Commit the notes if the oldest has waited SEND_COMMIT_SECONDS."""
        if self.rows and clock() - self.since >= settings.SEND_COMMIT_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Move the noted deliveries from `sending` to `sent` and write their events, in one transaction."""
        if self.rows:
            Delivery.every_kind.record_sent(self.rows)
            self.rows = []


def refusal(dispatch: Dispatch, kind: str) -> str:
    """Return why deliveries of this kind may not be emailed for the dispatch now ('' when they may)."""
    if not dispatch.is_emailed and kind != DeliveryKind.RECALL:
        return "Secret dispatches are never emailed."
    if dispatch.status == DispatchStatus.RECALLED and kind != DeliveryKind.RECALL:
        return "The dispatch was recalled: it is never emailed again."
    return ""


def send_batch(delivery_ids: list[int]) -> int:
    """Claim and send a small batch of deliveries over one connection; return how many the provider accepted."""
    claimed = Delivery.every_kind.claim(delivery_ids)
    if not claimed:
        log.info("Deliveries %s: nothing to claim (a duplicate or replayed task)", delivery_ids[:3])
        return 0
    deliveries = list(Delivery.every_kind.filter(pk__in=claimed).order_by("pk"))
    dispatch = Dispatch.objects.select_related("issuer", "drafting_unit").get(pk=deliveries[0].dispatch_id)
    sent = 0
    try:
        sendable = hold_back(deliveries, dispatch)
        if sendable:
            sent = send_claimed(sendable, dispatch)
    except INFRASTRUCTURE_ERRORS as exc:
        log.warning("Batch of dispatch %s stopped: %s; the sweeper will send the rest", dispatch.pk, exc)
        defer_unfinished(claimed, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # not a transport's classified error: a bug or bad data (e.g. a header injection)
        log.exception("Batch of dispatch %s failed", dispatch.pk)
        fail_unfinished(claimed, f"{type(exc).__name__}: {exc}")
    if sent and is_recalled(dispatch.pk):  # sent before the recall, recorded after it: they get a notice too
        recall.notify_late_recipients(dispatch.pk)
    dispatch.finish_sending_if_done()
    return sent


def hold_back(deliveries: list[Delivery], dispatch: Dispatch) -> list[Delivery]:
    """Fail what may not be emailed and suppress addresses now on the list; return the deliveries to send."""
    suppressed = set(
        Suppression.objects.active()
        .filter(address__in=[d.address for d in deliveries])
        .values_list("address", flat=True)
    )
    acknowledged = acknowledged_since(deliveries)
    sendable = []
    for delivery in deliveries:
        reason = refusal(dispatch, delivery.kind)
        if delivery.pk in acknowledged:
            Delivery.every_kind.transition(delivery.pk, S.CANCELLED, "acknowledged before the reminder left",
                                           from_=[S.SENDING])  # fmt: skip
        elif reason:
            Delivery.every_kind.transition(delivery.pk, S.FAILED, reason, from_=[S.SENDING], last_error=reason)
        elif delivery.address in suppressed:
            Delivery.every_kind.transition(delivery.pk, S.SUPPRESSED, "address is on the suppression list",
                                           from_=[S.SENDING])  # fmt: skip
        else:
            sendable.append(delivery)
    return sendable


def acknowledged_since(deliveries: list[Delivery]) -> set[int]:
    """Return the reminders of the batch whose organisation acknowledged the dispatch after they were queued."""
    reminders = [d for d in deliveries if d.kind == DeliveryKind.REMINDER]
    if not reminders:
        return set()
    acknowledged = Delivery.objects.filter(dispatch_id=reminders[0].dispatch_id, acknowledged_at__isnull=False)
    organizations = set(acknowledged.values_list("organization_id", flat=True))
    return {d.pk for d in reminders if d.organization_id in organizations}


def fail_unfinished(delivery_ids: list[int], reason: str) -> None:
    """Fail the batch's deliveries still `sending` with the reason, so none is left stranded."""
    Delivery.every_kind.filter(pk__in=delivery_ids, status=S.SENDING).move_all(
        S.FAILED, reason, last_error=reason[:2000]
    )


def defer_unfinished(delivery_ids: list[int], reason: str) -> None:
    """Defer the batch's deliveries still `sending`, without spending their attempt, for the sweeper to enqueue."""
    due = timezone.now() + datetime.timedelta(seconds=settings.SEND_RETRY_BASE_SECONDS)
    Delivery.every_kind.filter(pk__in=delivery_ids, status=S.SENDING).move_all(
        S.DEFERRED, reason, last_error=reason[:2000], next_attempt_at=due, attempts=F("attempts") - 1
    )


def is_paused(dispatch_id: int) -> bool:
    """Return whether the operator paused the dispatch."""
    return Dispatch.objects.filter(pk=dispatch_id, sending_paused_at__isnull=False).exists()


def is_recalled(dispatch_id: int) -> bool:
    """Return whether the dispatch was recalled since the batch was claimed."""
    return Dispatch.objects.filter(pk=dispatch_id, status=DispatchStatus.RECALLED).exists()


def stop_recalled(deliveries: list[Delivery], accepted: Accepted) -> None:
    """Commit what was sent, then cancel the rest of a batch whose dispatch was recalled while it was sending."""
    accepted.flush()
    Delivery.every_kind.filter(pk__in=[d.pk for d in deliveries], status=S.SENDING).move_all(
        S.CANCELLED, "the dispatch was recalled", next_attempt_at=None
    )


def send_claimed(deliveries: list[Delivery], dispatch: Dispatch) -> int:
    """Send claimed deliveries of one dispatch in order, checking now and then whether it was paused."""
    letters = {kind: mail.letter_for(dispatch, kind) for kind in {d.kind for d in deliveries}}
    copies = copies_of(dispatch, deliveries)
    bucket, tokens, sent, checked = TokenBucket(transport_name()), 0, 0, clock()
    claimed_at, given_away = checked, set()
    accepted = Accepted()
    with open_transport() as transport:
        try:
            for i, delivery in enumerate(deliveries):
                accepted.flush_if_old()
                # Checked before every dispatch email: a recall stops even a batch a worker already claimed.
                if delivery.kind != DeliveryKind.RECALL and is_recalled(dispatch.pk):
                    stop_recalled(deliveries[i:], accepted)
                    break
                if clock() - checked >= PAUSE_CHECK_SECONDS:
                    checked = clock()
                    if is_paused(dispatch.pk):
                        accepted.flush()
                        Delivery.every_kind.release([d.pk for d in deliveries[i:]], "paused by the operator")
                        break
                    if checked - claimed_at >= settings.SEND_STUCK_SECONDS / 2:
                        given_away |= no_longer_held(deliveries[i:])
                if delivery.pk in given_away:
                    continue
                tokens = tokens or bucket.acquire(min(len(deliveries) - i, settings.SEND_RATE_TAKE))
                tokens -= 1
                sent += send_one(delivery, letters[delivery.kind], transport, bucket, accepted, dispatch.send_queue,
                                 copies)  # fmt: skip
        finally:
            accepted.flush()
    return sent


def no_longer_held(deliveries: list[Delivery]) -> set[int]:
    """Return the claimed deliveries this batch no longer holds: a batch that stalled (a worker cut off from the
    network, a long SMTP timeout) for as long as the sweeper waits may find its rows requeued, and perhaps claimed
    again by another worker (which counts another attempt); sending them too would mail them twice."""
    now = dict(
        Delivery.every_kind.filter(pk__in=[d.pk for d in deliveries], status=S.SENDING).values_list("pk", "attempts")
    )
    lost = {d.pk for d in deliveries if now.get(d.pk) != d.attempts}
    if lost:
        log.warning("Batch gave up %d deliveries the sweeper took back while it stalled", len(lost))
    return lost


def copies_of(dispatch: Dispatch, deliveries: list[Delivery]) -> dict[int, DispatchCopy] | None:
    """Return the copies of a personalised dispatch that the batch's dispatch emails carry, by organisation id
    (None for a dispatch that is not personalised)."""
    if not dispatch.personalised:
        return None
    organizations = {d.organization_id for d in deliveries if d.kind == DeliveryKind.DISPATCH and d.organization_id}
    copies = {c.organization_id: c for c in dispatch.personal_copies.filter(organization_id__in=organizations)}
    for copy in copies.values():
        copy.dispatch = dispatch
    return copies


def recipient_for(delivery: Delivery, letter: mail.Letter, copies: dict[int, DispatchCopy] | None) -> mail.Recipient:
    """Return the delivery's recipient; a personalised dispatch's email carries its organisation's copy or fails."""
    if copies is None or delivery.kind != DeliveryKind.DISPATCH:
        return mail.recipient_of(delivery)
    copy = copies.get(delivery.organization_id) if delivery.organization_id else None
    if copy is None:  # never the shared PDF, never another organisation's copy
        raise TransportError(NO_COPY, permanent=True)
    return mail.recipient_of(delivery, copy, letter)


def send_one(delivery: Delivery, letter: mail.Letter, transport: Transport, bucket, accepted, queue: str,
             copies: dict[int, DispatchCopy] | None = None) -> int:  # fmt: skip
    """Send one claimed delivery and note or record the outcome; return 1 if the provider accepted it."""
    try:
        provider_id = transport.send(letter, recipient_for(delivery, letter, copies))
    except Throttled as exc:
        record_throttled(delivery, exc, bucket, queue)
        return 0
    except TransportError as exc:
        record_failure(delivery, exc, queue)
        return 0
    accepted.add(delivery.pk, provider_id)  # committed within SEND_COMMIT_EVERY messages (see Accepted)
    MESSAGES_SENT.labels(transport.name).inc()
    return 1
