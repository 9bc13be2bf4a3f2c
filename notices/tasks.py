"""Celery tasks: thin wrappers that take IDs, guard on status, and call one concern each.

Every task is safe to run twice: the database decides what still has to be done.
"""

from __future__ import annotations

import imaplib
import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import ChannelError

from config.celery import app
from notices import bounces, copies, dashboard, fanout, issuing, reminders, sendloop, signing, sweeper
from notices.models import Dispatch, DispatchCount, DispatchStatus, MergeFile
from notices.models.delivery import QUEUE, URGENT_QUEUE, enqueue

log = logging.getLogger(__name__)


@shared_task(name="notices.make_copies")
def make_copies(dispatch_id: int) -> None:
    """Queue one task per range of organisations still without a copy (the fan-out starts when none is missing)."""
    dispatch = copy_maker(dispatch_id)
    if dispatch is None:
        return
    ranges = copies.plan_ranges(dispatch)
    for after, upto in ranges:
        make_copy_range.delay(dispatch_id, after, upto)
    if not ranges and dispatch.is_emailed:
        fan_out.delay(dispatch_id)


@shared_task(name="notices.make_copy_range", autoretry_for=(signing.TimestampingUnavailable,), max_retries=5,
             retry_backoff=30, retry_jitter=False)  # fmt: skip
def make_copy_range(dispatch_id: int, after: int, upto: int) -> None:
    """Make the missing copies of one range of organisations; the range that completes the set starts the fan-out."""
    dispatch = copy_maker(dispatch_id)
    if dispatch is None:
        return
    copies.make_missing(dispatch, after, upto)
    if dispatch.is_emailed and copies.complete(dispatch):
        fan_out.delay(dispatch_id)


def copy_maker(dispatch_id: int) -> Dispatch | None:
    """Return the dispatch when its copies are to be made (personalised, issued, not recalled), else None."""
    dispatch = Dispatch.objects.select_related("issuer", "drafting_unit", "signer").get(pk=dispatch_id)
    if not dispatch.personalised or dispatch.status not in (DispatchStatus.ISSUED, DispatchStatus.SENDING):
        log.info("Dispatch %s is %s: no copies to make", dispatch_id, dispatch.status)
        return None
    return dispatch


@shared_task(name="notices.fan_out")
def fan_out(dispatch_id: int) -> None:
    """Start sending an issued dispatch: mark it sending, then queue the writing of its deliveries page by page."""
    dispatch = Dispatch.objects.get(pk=dispatch_id)
    if not dispatch.is_emailed:
        log.error("Dispatch %s is secret: it is never emailed", dispatch_id)
        return
    if dispatch.status not in (DispatchStatus.ISSUED, DispatchStatus.SENDING):
        log.info("Dispatch %s is %s: nothing to fan out", dispatch_id, dispatch.status)
        return
    if dispatch.personalised and not copies.complete(dispatch):  # no delivery before its attachment exists
        log.info("Dispatch %s still lacks copies: make_copies starts its fan-out once every copy exists", dispatch_id)
        return
    fanout.begin_sending(dispatch)
    pages, expected = fanout.plan_pages(dispatch)
    for after, upto in pages:
        fan_out_page.delay(dispatch_id, after, upto, expected)
    if not pages:
        fanout.finish_fan_out(dispatch)


@shared_task(name="notices.fan_out_page")
def fan_out_page(dispatch_id: int, after: str, upto: str | None, expected: int) -> None:
    """Write one range of deliveries and queue their send tasks; the last page to finish ends the fan-out."""
    dispatch = Dispatch.objects.get(pk=dispatch_id)
    if not dispatch.is_emailed or dispatch.status != DispatchStatus.SENDING:
        log.info("Dispatch %s is %s: fan-out stops", dispatch_id, dispatch.status)
        return
    queued = fanout.write_page(dispatch, after, upto)
    if not dispatch.sending_paused_at:
        enqueue(queued, dispatch.send_queue)
    fanout.finish_fan_out_if_complete(dispatch, expected)


@shared_task(name="notices.send_batch")
def send_batch(delivery_ids: list[int]) -> None:
    """Send a small batch of deliveries (any kind) over one connection; claimed rows only, so replays do nothing."""
    sendloop.send_batch(list(delivery_ids))


@shared_task(name="notices.remove_merge_files")
def remove_merge_files() -> int:
    """Delete the raw merge data files whose retention after issue is over (MERGE_FILE_RETENTION_DAYS)."""
    expired = list(MergeFile.objects.expired())
    for merge_file in expired:
        merge_file.remove()
    return len(expired)


@shared_task(name="notices.issue_scheduled")
def issue_scheduled() -> int:
    """Issue every scheduled dispatch whose time has come (beat); each is locked and checked again first."""
    now = timezone.now()
    due = list(Dispatch.objects.due_for_issue(now).values_list("pk", flat=True))
    return sum(issuing.issue_scheduled(pk, now) for pk in due)


@shared_task(name="notices.send_reminders")
def send_reminders() -> int:
    """Queue the acknowledgement reminders due today (beat); a round already queued is never queued again."""
    return reminders.queue_due()


@shared_task(name="notices.poll_bounces")
def poll_bounces() -> dict[str, int]:
    """Apply the delivery status notifications waiting in the bounce mailbox (beat, every BOUNCE_POLL_SECONDS).

    A mailbox that does not answer is tried again at the next poll: its messages wait there, nothing is lost.
    """
    if not settings.BOUNCE_IMAP_HOST:
        return {}
    try:
        return bounces.poll()
    except (OSError, imaplib.IMAP4.error) as exc:
        log.warning("Bounce mailbox %s: %s; trying again at the next poll", settings.BOUNCE_IMAP_HOST, exc)
        return {}


@shared_task(name="notices.refresh_dashboard_counts")
def refresh_dashboard_counts() -> int:
    """Recompute the dashboard's counts of the recently issued dispatches and its slowest organisations (beat,
    every DASHBOARD_REFRESH_SECONDS); return the number of summary rows."""
    rows = DispatchCount.objects.refresh_recent()
    dashboard.cached_slowest(timezone.now(), refresh=True)
    return rows


@shared_task(name="notices.sweep")
def sweep() -> dict:
    """Re-enqueue deliveries Redis lost or dead workers left, and time out very old ones."""
    counts = sweeper.sweep(send_queues_are_empty)
    if any(counts.values()):
        log.info("Sweeper: %s", counts)
    return counts


def send_queues_are_empty() -> bool:
    """Return whether no send task waits in the broker (so a queued row untouched for long was lost)."""
    with app.connection_for_read() as connection:
        channel = connection.default_channel
        for queue in (QUEUE, URGENT_QUEUE):
            try:
                # kombu's stub for StdChannel omits queue_declare, which every transport's Channel has.
                if channel.queue_declare(queue=queue, passive=True).message_count:  # type: ignore[attr-defined]
                    return False
            except ChannelError:  # Redis keeps no key for an empty queue
                continue
    return True
