"""The sweeper (notices/sweeper.py): what Redis lost or a dead worker left is sent again; the far too old times out."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from notices import sweeper, tasks
from notices.models import Delivery, Dispatch, DispatchStatus, RecallNotice
from tests.conftest import wait_until
from tests.notices.delivery_fixtures import PDF, S

LONG_AGO = timezone.now() - datetime.timedelta(hours=1)


def age(queryset, **fields) -> None:
    queryset.update(updated_at=LONG_AGO, **fields)


def test_the_sweeper_resends_what_a_dead_worker_and_a_lost_queue_left_behind(issue_to, smtp_server, celery_worker):
    dispatch = issue_to(3)
    first, *others = dispatch.deliveries.order_by("pk")
    Delivery.every_kind.claim([first.pk])  # its worker died after claiming it
    age(dispatch.deliveries.all())  # and Redis lost the tasks of the two others

    assert tasks.sweep() == {"timed_out": 0, "stuck": 1, "enqueued": 3, "fan_outs": 0}
    wait_until(lambda: not dispatch.deliveries.exclude(status=S.SENT).exists())

    assert sorted(smtp_server.handler.counts.values()) == [1, 1, 1]
    assert [e for e in Delivery.objects.get(pk=first.pk).events.values_list("type", flat=True)] == [
        "queued", "sending", "queued", "sending", "sent"
    ]  # fmt: skip
    wait_until(lambda: Dispatch.objects.get(pk=dispatch.pk).status == DispatchStatus.SENT)


@pytest.mark.django_db
def test_the_sweeper_leaves_fresh_and_paused_work_alone(issue_to):
    dispatch = issue_to(2)
    assert sweeper.sweep(lambda: True)["enqueued"] == 0  # queued a moment ago: its task is surely in Redis
    dispatch.pause()
    age(dispatch.deliveries.all())
    assert sweeper.sweep(lambda: True)["enqueued"] == 0
    dispatch.resume()
    age(dispatch.deliveries.all())
    assert sweeper.sweep(lambda: False)["enqueued"] == 0  # tasks still wait in the broker: nothing was lost
    assert sweeper.sweep(lambda: True)["enqueued"] == 2


@pytest.mark.django_db
def test_the_sweeper_requeues_a_due_retry_and_times_out_very_old_deliveries(issue_to, settings):
    dispatch = issue_to(2)
    due, old = dispatch.deliveries.order_by("pk")
    Delivery.every_kind.claim([due.pk])
    Delivery.every_kind.transition(due.pk, S.DEFERRED, "451", next_attempt_at=timezone.now())
    Delivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=3))

    counts = sweeper.sweep(lambda: True)

    assert counts["timed_out"] == 1 and counts["enqueued"] == 1
    old.refresh_from_db()
    assert old.status == S.FAILED and old.last_error == "timed out"
    assert not tasks.send_queues_are_empty()


@pytest.mark.django_db
def test_the_sweeper_restarts_a_fan_out_whose_task_was_lost(draft, clerk, fresh_broker):
    Dispatch.objects.filter(pk=draft.pk).update(
        status=DispatchStatus.ISSUED, number=1, issued_at=LONG_AGO, updated_at=LONG_AGO
    )
    assert sweeper.sweep(lambda: True)["fan_outs"] == 1
    assert sweeper.sweep(lambda: True)["fan_outs"] == 0  # not again until it is stuck once more


@pytest.mark.django_db
def test_the_sweeper_resends_a_lost_recall_notice(issue_to, clerk, smtp_server, django_capture_on_commit_callbacks):
    from notices import issuing, sendloop

    dispatch = issue_to(1)
    sendloop.send_batch(list(dispatch.deliveries.values_list("pk", flat=True)))
    with django_capture_on_commit_callbacks(execute=False):  # Redis loses the recall notice's task
        issuing.recall(dispatch, clerk, "Sai số liệu.")
    (notice,) = RecallNotice.objects.filter(dispatch=dispatch)
    age(RecallNotice.objects.filter(pk=notice.pk))
    assert sweeper.sweep(lambda: True)["enqueued"] == 1
    sendloop.send_batch([notice.pk])
    assert RecallNotice.objects.get(pk=notice.pk).status == S.SENT
    assert smtp_server.messages[-1]["Subject"].startswith("[THU HỒI] Số 07/BHXH-QLT")


def test_the_sweeper_makes_the_copies_of_a_personalised_dispatch_whose_task_was_lost(
    draft, clerk, smtp_server, celery_worker, fresh_broker
):
    from tests.notices.test_copies import personalised

    dispatch = personalised(draft, 2)
    dispatch.status, dispatch.number, dispatch.year, dispatch.series = DispatchStatus.ISSUED, 1, 2026, "regular"
    dispatch.issued_at, dispatch.verification_code, dispatch.short_code = LONG_AGO, "v", "VVVV-WWWW-XX"
    dispatch.store_pdf(PDF)
    dispatch.save()  # issued, and the task that makes its copies lost
    Dispatch.objects.filter(pk=dispatch.pk).update(updated_at=LONG_AGO)
    assert sweeper.sweep(lambda: True)["fan_outs"] == 1
    wait_until(lambda: Dispatch.objects.get(pk=dispatch.pk).status == DispatchStatus.SENT, timeout=120)

    copies = dict(dispatch.personal_copies.values_list("organization_id", "pdf_sha256"))
    assert len(copies) == 2 and len(smtp_server.messages) == 2
    assert set(Delivery.objects.filter(dispatch=dispatch).values_list("status", flat=True)) == {S.SENT}
