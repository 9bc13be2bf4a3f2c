from __future__ import annotations

import pytest
from django.utils import timezone

from notices import issuing, sendloop
from notices.models import AuditEvent, Delivery, DeliveryStatus, Dispatch, DispatchStatus, RecallNotice, RecallStatus
from notices.models.delivery import QUEUE, enqueue
from notices.models.workflow import WorkflowError
from tests.conftest import make_group, wait_until
from tests.notices.delivery_fixtures import on_message


@pytest.fixture
def sending(draft):
    """A dispatch in the middle of sending: two deliveries sent, one still queued."""
    group = make_group(3)
    Dispatch.objects.filter(pk=draft.pk).update(
        status=DispatchStatus.SENDING, number=12, year=2026, series="regular", issued_at=timezone.now()
    )
    draft.refresh_from_db()
    for i, org in enumerate(group.members.order_by("name")):
        Delivery.objects.create(
            dispatch=draft, organization=org, organization_name=org.name, address=f"office{i:03d}@bhxh-hanoi.example.vn",
            status=DeliveryStatus.SENT if i < 2 else DeliveryStatus.QUEUED, sent_at=timezone.now() if i < 2 else None,
        )  # fmt: skip
    return draft


def test_a_recall_emails_each_recipient_already_sent_it_and_stops_the_rest(sending, clerk, smtp_server, celery_worker):
    assert issuing.recall(sending, clerk, "Văn bản ban hành sai thẩm quyền.") == 2
    wait_until(lambda: RecallNotice.objects.filter(status=RecallStatus.SENT).count() == 2)

    assert sorted(rcpts[0] for _, rcpts in smtp_server.handler.envelopes) == [
        "office000@bhxh-hanoi.example.vn", "office001@bhxh-hanoi.example.vn",
    ]  # fmt: skip
    message = smtp_server.messages[0]
    assert message["Subject"].strip().startswith("[THU HỒI] Số 12/BHXH-QLT")
    assert "Văn bản ban hành sai thẩm quyền." in message.get_body(("plain",)).get_content()
    assert Delivery.objects.get(address="office002@bhxh-hanoi.example.vn").status == DeliveryStatus.CANCELLED
    sending.refresh_from_db()
    assert sending.status == DispatchStatus.RECALLED and sending.recalled_by == clerk
    assert AuditEvent.objects.for_object(sending).get(action="recall").details["reason"] == sending.recall_reason


@pytest.mark.django_db
def test_a_recall_notice_keeps_the_folded_name_of_the_delivery_it_follows(
    sending, clerk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        issuing.recall(sending, clerk, "Sai số liệu.")
    names = set(RecallNotice.objects.values_list("organization_name", "search_name"))
    assert names == {("Bảo hiểm xã hội cơ sở số 000", "bao hiem xa hoi co so so 000"),
                     ("Bảo hiểm xã hội cơ sở số 001", "bao hiem xa hoi co so so 001")}  # fmt: skip


def test_a_recall_needs_a_reason_and_happens_once(sending, clerk, django_capture_on_commit_callbacks):
    with pytest.raises(WorkflowError, match="reason"):
        issuing.recall(sending, clerk, "")
    with django_capture_on_commit_callbacks() as callbacks:
        issuing.recall(sending, clerk, "Sai số liệu.")
    assert len(callbacks) == 1
    with pytest.raises(WorkflowError, match="no longer applies"):
        issuing.recall(sending, clerk, "Lần nữa.")
    assert RecallNotice.objects.count() == 2


@pytest.mark.django_db
def test_a_recall_notice_that_keeps_failing_is_marked_failed(sending, clerk, smtp_server, settings, fresh_broker):
    settings.SEND_MAX_ATTEMPTS = 2
    settings.SEND_RETRY_BASE_SECONDS = 120  # the retry waits in the database: this test runs it itself
    smtp_server.handler.refuse("office000@bhxh-hanoi.example.vn", *["451 4.7.1 Try later"] * 10)
    issuing.recall(sending, clerk, "Sai số liệu.")
    notice = RecallNotice.objects.get(address="office000@bhxh-hanoi.example.vn")
    for _ in range(settings.SEND_MAX_ATTEMPTS):
        RecallNotice.objects.filter(pk=notice.pk).update(next_attempt_at=timezone.now())
        sendloop.send_batch([notice.pk])
    notice.refresh_from_db()
    assert notice.status == RecallStatus.FAILED and "451" in notice.last_error
    assert notice.attempts == settings.SEND_MAX_ATTEMPTS


def test_a_recall_stops_a_batch_a_worker_is_sending_and_notifies_exactly_who_received_it(
    issue_to, clerk, smtp_server, celery_worker, settings
):
    settings.SEND_COMMIT_EVERY = 100  # the first two emails are still uncommitted when the recall lands
    dispatch = issue_to(5)
    ids = list(dispatch.deliveries.order_by("pk").values_list("pk", flat=True))
    reason = "Văn bản ban hành sai thẩm quyền."

    def recall_after_the_second_email(n: int) -> None:
        if n == 2:  # the worker holds the whole batch (claimed, `sending`) and waits for this reply
            issuing.recall(Dispatch.objects.get(pk=dispatch.pk), clerk, reason)

    on_message(smtp_server, recall_after_the_second_email)
    enqueue(ids, QUEUE)
    wait_until(lambda: RecallNotice.objects.filter(status=RecallStatus.SENT).count() == 2)
    wait_until(lambda: not Delivery.objects.filter(dispatch=dispatch, status=DeliveryStatus.SENDING).exists())

    received = ["office000@bhxh-hanoi.example.vn", "office001@bhxh-hanoi.example.vn"]
    subjects = [(rcpts[0], m["Subject"].strip().startswith("[THU HỒI]"))
                for (_, rcpts), m in zip(smtp_server.handler.envelopes, smtp_server.messages, strict=True)]  # fmt: skip
    assert sorted(address for address, recall in subjects if not recall) == received  # nothing sent after the recall
    assert sorted(address for address, recall in subjects if recall) == received  # and only they get the notice
    statuses = dict(Delivery.objects.filter(dispatch=dispatch).values_list("address", "status"))
    assert [statuses[a] for a in sorted(statuses)] == [DeliveryStatus.SENT] * 2 + [DeliveryStatus.CANCELLED] * 3
    assert sorted(RecallNotice.objects.filter(dispatch=dispatch).values_list("address", flat=True)) == received


@pytest.mark.django_db
def test_an_address_sent_two_organisations_copies_gets_one_recall_notice(
    sending, clerk, django_capture_on_commit_callbacks
):
    Dispatch.objects.filter(pk=sending.pk).update(personalised=True)
    third = Delivery.objects.get(address="office002@bhxh-hanoi.example.vn")
    Delivery.objects.create(dispatch=sending, organization_id=third.organization_id, organization_name="Ba",
                            address="office000@bhxh-hanoi.example.vn", status=DeliveryStatus.SENT,
                            sent_at=timezone.now())  # fmt: skip

    with django_capture_on_commit_callbacks():
        assert issuing.recall(sending, clerk, "Sai số liệu.") == 2
    assert sorted(RecallNotice.objects.values_list("address", flat=True)) == [
        "office000@bhxh-hanoi.example.vn", "office001@bhxh-hanoi.example.vn",
    ]  # fmt: skip
