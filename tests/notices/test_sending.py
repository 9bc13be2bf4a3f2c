from __future__ import annotations

import hashlib
import time

import pytest

from notices.models import Delivery, DeliveryStatus, Dispatch, DispatchStatus
from tests.conftest import approve, make_group


def wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


def settled(dispatch: Dispatch) -> bool:
    dispatch.refresh_from_db()
    return dispatch.status in (DispatchStatus.SENT, DispatchStatus.PARTLY_FAILED)


def test_it_emails_each_of_fifty_organisations_separately_with_the_stored_pdf(draft, clerk, smtp_server, celery_worker):
    draft.groups.add(make_group(50))
    approve(draft).issue(clerk)
    wait_until(lambda: settled(draft))

    assert len(smtp_server.messages) == 50
    assert all(len(rcpts) == 1 for _, rcpts in smtp_server.handler.envelopes)
    assert {rcpts[0] for _, rcpts in smtp_server.handler.envelopes} == set(
        Delivery.objects.values_list("address", flat=True)
    )
    for message in smtp_server.messages:
        assert message["Subject"].strip() == f"[Số 01/BHXH-QLT] V/v {draft.subject}"
        (pdf,) = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
        assert hashlib.sha256(pdf.get_content()).hexdigest() == draft.pdf_sha256
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 50
    assert draft.status == DispatchStatus.SENT


def test_a_refused_address_fails_with_the_servers_reason_and_a_451_is_retried(draft, clerk, smtp_server, celery_worker):
    draft.groups.add(make_group(3))
    smtp_server.handler.refuse("office000@bhxh-hanoi.example.vn", "550 5.1.1 No such mailbox")
    smtp_server.handler.refuse("office001@bhxh-hanoi.example.vn", "451 4.7.1 Greylisted, try later")
    approve(draft).issue(clerk)
    wait_until(lambda: settled(draft))

    refused = Delivery.objects.get(address="office000@bhxh-hanoi.example.vn")
    assert refused.status == DeliveryStatus.FAILED
    assert "550" in refused.last_error and "No such mailbox" in refused.last_error
    greylisted = Delivery.objects.get(address="office001@bhxh-hanoi.example.vn")
    assert greylisted.status == DeliveryStatus.SENT and greylisted.attempts == 2
    assert draft.status == DispatchStatus.PARTLY_FAILED


@pytest.mark.django_db
def test_a_secret_dispatch_is_registered_but_never_emailed(
    draft, clerk, smtp_server, django_capture_on_commit_callbacks
):
    draft.secrecy = "mat"
    draft.save()
    draft.groups.add(make_group(2))
    with django_capture_on_commit_callbacks(execute=True):
        approve(draft).issue(clerk)
    assert draft.number == 1 and draft.series == "secret"
    assert not Delivery.objects.exists() and smtp_server.messages == []
