"""The sweeper (notices/sweeper.py): what Redis lost or a dead worker left is sent again; the far too old times out."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from notices import sweeper, tasks
from notices.models import Delivery, DeliveryEvent, Dispatch, DispatchStatus, RecallNotice
from tests.conftest import wait_until
from tests.notices.delivery_fixtures import PDF, S, queued_tasks

LONG_AGO = timezone.now() - datetime.timedelta(hours=1)


def age(queryset, **fields) -> None:
    queryset.update(updated_at=LONG_AGO, **fields)


def last_event(delivery: Delivery) -> tuple[str, str]:
    event = DeliveryEvent.objects.filter(delivery_id=delivery.pk).latest("at", "pk")
    return event.type, event.detail


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
    assert sweeper.sweep(lambda: True)["enqueued"] == 0  # just enqueued again: not lost a second time yet


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


@pytest.mark.django_db
def test_what_waits_too_long_fails_as_timed_out_and_its_dispatch_finishes(issue_to):
    dispatch = issue_to(3)
    deferred, queued, sent = dispatch.deliveries.order_by("pk")
    Delivery.every_kind.claim([deferred.pk, sent.pk])
    later = timezone.now() + datetime.timedelta(hours=1)
    Delivery.every_kind.transition(deferred.pk, S.DEFERRED, "451", next_attempt_at=later)
    Delivery.every_kind.transition(sent.pk, S.SENT, "250")
    dispatch.deliveries.update(created_at=timezone.now() - datetime.timedelta(days=3))

    assert sweeper.sweep(lambda: False) == {"timed_out": 2, "stuck": 0, "enqueued": 0, "fan_outs": 0}

    for delivery in (deferred, queued):
        delivery.refresh_from_db()
        assert (delivery.status, delivery.last_error, delivery.next_attempt_at) == (S.FAILED, "timed out", None)
        assert last_event(delivery) == ("failed", "timed out")
    sent.refresh_from_db()
    assert sent.status == S.SENT
    assert Dispatch.objects.get(pk=dispatch.pk).status == DispatchStatus.PARTLY_FAILED


@pytest.mark.django_db
def test_a_stuck_delivery_is_requeued_with_the_sweepers_reason_and_a_retry_not_due_waits(issue_to):
    dispatch = issue_to(4)
    stuck, later, fresh, bounced = dispatch.deliveries.order_by("pk")
    Delivery.every_kind.claim([stuck.pk, later.pk, fresh.pk, bounced.pk])
    Delivery.every_kind.transition(
        later.pk, S.DEFERRED, "451", next_attempt_at=timezone.now() + datetime.timedelta(hours=1)
    )
    Delivery.every_kind.transition(bounced.pk, S.DEFERRED, "451", next_attempt_at=timezone.now())
    Delivery.every_kind.transition(bounced.pk, S.BOUNCED, "550 5.1.1")  # the provider's late bounce: no retry
    age(dispatch.deliveries.exclude(pk=fresh.pk))

    assert sweeper.sweep(lambda: False) == {"timed_out": 0, "stuck": 1, "enqueued": 1, "fan_outs": 0}

    stuck.refresh_from_db()
    assert stuck.status == S.QUEUED and last_event(stuck) == ("queued", "requeued by the sweeper")
    assert Delivery.objects.get(pk=later.pk).status == S.DEFERRED
    assert Delivery.objects.get(pk=fresh.pk).status == S.SENDING  # its worker is still at it
    assert Delivery.objects.get(pk=bounced.pk).status == S.BOUNCED
    assert sweeper.sweep(lambda: True)["enqueued"] == 0  # just requeued: its task is in the broker


@pytest.mark.django_db
def test_only_an_emailed_dispatch_whose_fan_out_stalled_is_fanned_out_again(draft, clerk, fresh_broker):
    from tests.notices.test_copies import personalised

    def stalled(subject: str, status: str, **fields) -> Dispatch:
        dispatch = Dispatch.objects.create(
            issuer=draft.issuer, drafting_unit=draft.drafting_unit, signer=draft.signer, subject=subject,
            body=draft.body, created_by=draft.created_by)  # fmt: skip
        Dispatch.objects.filter(pk=dispatch.pk).update(status=status, updated_at=LONG_AGO, **fields)
        return dispatch

    lost = stalled("mất", DispatchStatus.SENDING)
    stalled("đã chia xong", DispatchStatus.SENDING, fanned_out_at=LONG_AGO)
    stalled("mật", DispatchStatus.ISSUED, secrecy="mat")
    stalled("chưa ban hành", DispatchStatus.APPROVED)
    making = personalised(draft, 1)
    Dispatch.objects.filter(pk=making.pk).update(status=DispatchStatus.ISSUED, updated_at=LONG_AGO)
    copied = stalled("đã làm bản riêng", DispatchStatus.SENDING, personalised=True)
    queued_tasks("render")

    assert sweeper.sweep(lambda: True)["fan_outs"] == 3

    assert sorted(queued_tasks("render")) == sorted([
        ("notices.fan_out", [lost.pk]), ("notices.make_copies", [making.pk]), ("notices.fan_out", [copied.pk])
    ])  # fmt: skip
