"""Celery tasks: thin wrappers that take IDs, guard on status, and call the sending module.

Every task is safe to run twice: the database decides what still has to be done.
"""

from __future__ import annotations

import logging

from celery import shared_task
from kombu.exceptions import ChannelError

from notices import sending
from notices.models import Dispatch, DispatchStatus

log = logging.getLogger(__name__)


@shared_task(name="notices.fan_out")
def fan_out(dispatch_id: int) -> None:
    """Start sending an issued dispatch: mark it sending, then write its deliveries page by page."""
    dispatch = Dispatch.objects.get(pk=dispatch_id)
    if dispatch.is_secret:
        log.error("Dispatch %s is secret: it is never emailed", dispatch_id)
        return
    if dispatch.status not in (DispatchStatus.ISSUED, DispatchStatus.SENDING):
        log.info("Dispatch %s is %s: nothing to fan out", dispatch_id, dispatch.status)
        return
    sending.begin_sending(dispatch)
    pages, expected = sending.plan_pages(dispatch)
    for after, upto in pages:
        fan_out_page.delay(dispatch_id, after, upto, expected)
    if not pages:
        sending.finish_fan_out(dispatch_id)


@shared_task(name="notices.fan_out_page")
def fan_out_page(dispatch_id: int, after: str, upto: str | None, expected: int) -> None:
    """Write one range of deliveries and queue their send tasks; the last page to finish ends the fan-out."""
    dispatch = Dispatch.objects.get(pk=dispatch_id)
    if dispatch.is_secret or dispatch.status != DispatchStatus.SENDING:
        log.info("Dispatch %s is %s: fan-out stops", dispatch_id, dispatch.status)
        return
    queued = sending.write_page(dispatch, after, upto)
    if not dispatch.sending_paused_at:
        sending.enqueue(queued, sending.send_queue(dispatch))
    sending.finish_fan_out_if_complete(dispatch_id, expected)


@shared_task(name="notices.send_batch")
def send_batch(delivery_ids: list[int]) -> None:
    """Send a small batch of deliveries over one connection; claimed rows only, so replays do nothing."""
    sending.send_batch(list(delivery_ids))


@shared_task(name="notices.send_test_copy")
def send_test_copy(dispatch_id: int, address: str) -> None:
    """Send a copy marked TEST to one address (the operator's own)."""
    try:
        sending.send_test_copy(dispatch_id, address)
    except sending.SendError as exc:
        log.warning("Test copy of dispatch %s to %s failed: %s", dispatch_id, address, exc)


@shared_task(name="notices.sweep")
def sweep() -> dict:
    """Re-enqueue deliveries Redis lost or dead workers left, and time out very old ones."""
    counts = sending.sweep(send_queues_are_empty)
    if any(counts.values()):
        log.info("Sweeper: %s", counts)
    return counts


def send_queues_are_empty() -> bool:
    """Return whether no send task waits in the broker (so a queued row untouched for long was lost)."""
    from config.celery import app

    with app.connection_for_read() as connection:
        channel = connection.default_channel
        for queue in ("send", "send-urgent"):
            try:
                if channel.queue_declare(queue=queue, passive=True).message_count:
                    return False
            except ChannelError:  # Redis keeps no key for an empty queue
                continue
    return True
