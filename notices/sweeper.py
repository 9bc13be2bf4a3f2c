"""The sweeper: re-enqueue what Redis lost or a dead worker left, and time out what is far too old.

The database is the only state that matters; Redis merely carries IDs. Every kind of delivery (dispatch
emails, test copies, recall notices) is swept alike.
"""

from __future__ import annotations

import datetime

from celery import current_app
from django.conf import settings
from django.utils import timezone

from notices.models import Delivery, DeliveryStatus, Dispatch, DispatchStatus
from notices.models.delivery import WAITING, enqueue

S = DeliveryStatus


def sweep(queue_is_empty) -> dict:
    """Sweep once; return how many deliveries were timed out, found stuck, enqueued, and fan-outs restarted.

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
    deliveries = Delivery.every_kind
    timed_out = deliveries.filter(WAITING, created_at__lt=too_old).move_all(
        S.FAILED, "timed out", last_error="timed out", next_attempt_at=None
    )
    stuck = deliveries.filter(status=S.SENDING, updated_at__lt=stuck_before).move_all(
        S.QUEUED, "requeued by the sweeper"
    )
    due = deliveries.filter(status=S.DEFERRED, next_attempt_at__lte=now)
    lost = deliveries.filter(status=S.QUEUED, updated_at__lt=stuck_before, dispatch__sending_paused_at=None)
    again = list(due.values_list("pk", "dispatch_id")[: settings.SEND_SWEEP_LIMIT])
    if queue_is_empty():
        again += list(lost.values_list("pk", "dispatch_id")[: settings.SEND_SWEEP_LIMIT])
    again += list(deliveries.filter(pk__in=stuck).values_list("pk", "dispatch_id"))
    deliveries.filter(pk__in=[pk for pk, _ in again], status=S.QUEUED).update(updated_at=now)
    requeue_by_dispatch(again)
    restarted = restart_stalled_fan_outs(stuck_before)
    finished = deliveries.filter(pk__in=timed_out).values_list("dispatch_id", flat=True).distinct()
    for dispatch in Dispatch.objects.filter(pk__in=list(finished)):
        dispatch.finish_sending_if_done()
    return {"timed_out": len(timed_out), "stuck": len(stuck), "enqueued": len(again), "fan_outs": restarted}


def restart_stalled_fan_outs(before: datetime.datetime) -> int:
    """Queue the fan-out again of dispatches whose fan-out task was lost (it is safe to repeat).

    A personalised dispatch not yet sending is still making its copies: the making is queued again (it skips
    the copies that exist and starts the fan-out once every copy does), never a fan-out ahead of its copies.
    """
    stalled = Dispatch.objects.filter(
        fanned_out_at__isnull=True,
        secrecy="",
        status__in=[DispatchStatus.ISSUED, DispatchStatus.SENDING],
        updated_at__lt=before,
    )
    rows = list(stalled.values_list("pk", "personalised", "status"))
    for dispatch_id, personalised, status in rows:
        Dispatch.objects.filter(pk=dispatch_id).update(updated_at=timezone.now())
        making = personalised and status == DispatchStatus.ISSUED
        current_app.send_task("notices.make_copies" if making else "notices.fan_out", args=[dispatch_id])
    return len(rows)


def requeue_by_dispatch(rows: list[tuple[int, int]]) -> None:
    """Enqueue (delivery id, dispatch id) rows on each dispatch's send queue."""
    by_dispatch: dict[int, list[int]] = {}
    for pk, dispatch_id in rows:
        by_dispatch.setdefault(dispatch_id, []).append(pk)
    for dispatch in Dispatch.objects.filter(pk__in=by_dispatch):
        enqueue(sorted(set(by_dispatch[dispatch.pk])), dispatch.send_queue)
