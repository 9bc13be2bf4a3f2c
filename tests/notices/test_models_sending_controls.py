"""The operator's sending controls (notices/models/sending_controls.py): queue, pause, resume, cancel, resend."""

from __future__ import annotations

import pytest

from notices import issuing, sendloop
from notices.models import Delivery, DeliveryEvent, Dispatch, DispatchStatus, Urgency
from notices.models.workflow import WorkflowError
from tests.notices.delivery_fixtures import S, ids_of


@pytest.mark.django_db
def test_urgent_dispatches_go_to_the_urgent_queue(draft):
    assert draft.send_queue == "send"
    draft.urgency = Urgency.VERY_URGENT
    assert draft.send_queue == "send-urgent"


@pytest.mark.django_db
def test_a_paused_dispatch_sends_nothing_until_resumed(issue_to, smtp_server, django_capture_on_commit_callbacks):
    dispatch = issue_to(3)
    ids = ids_of(dispatch)
    assert dispatch.pause()
    assert sendloop.send_batch(ids) == 0 and smtp_server.messages == []
    assert set(dispatch.deliveries.values_list("status", flat=True)) == {S.QUEUED}

    with django_capture_on_commit_callbacks() as callbacks:
        assert dispatch.resume() == 3
    assert len(callbacks) == 1  # the send tasks are queued once the resume commits
    assert sendloop.send_batch(ids) == 3


@pytest.mark.django_db
def test_cancel_stops_the_waiting_deliveries_and_resend_queues_them_again(
    issue_to, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.SEND_RETRY_BASE_SECONDS = 120
    dispatch = issue_to(4)
    ids = ids_of(dispatch)
    smtp_server.handler.refuse("office001@bhxh-hanoi.example.vn", "451 4.3.0 Busy")
    sendloop.send_batch(ids[:2])  # one sent, one deferred

    assert dispatch.cancel() == 3
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.PARTLY_FAILED
    assert sorted(dispatch.deliveries.values_list("status", flat=True)) == [S.CANCELLED] * 3 + [S.SENT]

    with django_capture_on_commit_callbacks(execute=False):
        assert dispatch.resend_undelivered() == 3
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.SENDING
    assert sendloop.send_batch(ids) == 3
    assert sorted(smtp_server.handler.counts.values()) == [1, 1, 1, 1]
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.SENT


@pytest.mark.django_db
def test_a_test_copy_is_marked_test_and_is_neither_counted_nor_registered(issue_to, smtp_server):
    dispatch = issue_to(2)
    before = list(DeliveryEvent.objects.filter(delivery__kind="dispatch").values_list("pk", flat=True))
    copy = dispatch.queue_test_copy("vanthu@bhxh.example.vn")
    sendloop.send_batch([copy])

    (message,) = smtp_server.messages
    assert message["Subject"].startswith("[TEST] [Số 07/BHXH-QLT]") and message["To"] == "vanthu@bhxh.example.vn"
    assert dispatch.deliveries.count() == 2 and not dispatch.deliveries.exclude(status=S.QUEUED).exists()
    assert list(DeliveryEvent.objects.filter(delivery__kind="dispatch").values_list("pk", flat=True)) == before
    assert Delivery.every_kind.get(pk=copy).status == S.SENT  # through the same loop, on a row of its own


@pytest.mark.django_db
def test_a_recalled_dispatch_is_never_emailed_again(issue_to, clerk, smtp_server, django_capture_on_commit_callbacks):
    dispatch = issue_to(3)
    ids = ids_of(dispatch)
    assert sendloop.send_batch(ids[:1]) == 1
    assert dispatch.pause()
    with django_capture_on_commit_callbacks(execute=False):
        assert issuing.recall(dispatch, clerk, "Ban hành nhầm.") == 1

    with pytest.raises(WorkflowError, match="sent again"):
        dispatch.resend_undelivered()
    with pytest.raises(WorkflowError, match="resumed"):
        dispatch.resume()
    assert not dispatch.can_resend
    Dispatch.objects.filter(pk=dispatch.pk).update(sending_paused_at=None)
    Delivery.objects.filter(pk__in=ids).update(status=S.QUEUED)  # even if a row were queued by any route
    assert sendloop.send_batch(ids) == 0
    assert [m["To"] for m in smtp_server.messages] == ["office000@bhxh-hanoi.example.vn"]  # the one sent before
    assert set(Delivery.objects.filter(pk__in=ids).values_list("status", flat=True)) == {S.FAILED}


@pytest.mark.django_db
def test_a_cancel_of_deliveries_that_never_failed_does_not_read_partly_failed(issue_to, smtp_server):
    dispatch = issue_to(3)
    assert sendloop.send_batch(ids_of(dispatch)[:1]) == 1
    assert dispatch.cancel() == 2
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.SENT and not dispatch.can_resend
