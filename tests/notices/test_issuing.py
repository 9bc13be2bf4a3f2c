"""Issuing and recalling across the register, the document, the audit trail and the sending."""

from __future__ import annotations

import hashlib

import pytest

from notices import issuing
from notices.models import (
    AuditEvent,
    Delivery,
    DeliveryStatus,
    DispatchStatus,
    RecallNotice,
    RegisterCounter,
)
from notices.models.workflow import WorkflowError
from tests.conftest import approve, make_group, wait_until
from tests.notices.conftest import stored_pdf
from tests.notices.delivery_fixtures import queued_tasks, settled

pytestmark = pytest.mark.django_db


def test_issue_numbers_renders_stores_audits_and_queues_the_sending_after_commit(
    draft, clerk, django_capture_on_commit_callbacks
):
    draft.groups.add(make_group(2))
    with django_capture_on_commit_callbacks() as callbacks:
        issued = issuing.issue(approve(draft), clerk)
    issued.refresh_from_db()
    assert (issued.status, issued.number, issued.notation) == (DispatchStatus.ISSUED, 1, "01/BHXH-QLT")
    assert issued.issued_by == clerk and issued.verification_code and issued.short_code
    data = stored_pdf(issued)
    assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == issued.pdf_sha256
    (event,) = AuditEvent.objects.for_object(issued).filter(action="issue", actor=clerk)
    assert event.details == {"notation": "01/BHXH-QLT", "pdf_sha256": issued.pdf_sha256}
    assert issued.acknowledge_by is None  # not urgent: nobody has to confirm by a date
    assert len(callbacks) == 1  # the fan-out, queued only once the transaction has committed


def test_a_secret_dispatch_is_numbered_in_its_own_series_and_nothing_is_queued(
    draft, clerk, django_capture_on_commit_callbacks
):
    draft.secrecy = "mat"
    draft.save()
    with django_capture_on_commit_callbacks() as callbacks:
        issuing.issue(approve(draft), clerk)
    assert (draft.series, draft.number) == ("secret", 1) and callbacks == []


def test_a_refused_issue_is_audited_and_takes_no_number(draft, drafter):
    with pytest.raises(WorkflowError, match="does not allow"):
        issuing.issue(approve(draft), drafter)
    draft.refresh_from_db()
    assert draft.number is None and not RegisterCounter.objects.exists()
    assert AuditEvent.objects.for_object(draft).filter(action="refused:issue", actor=drafter).exists()


def test_a_stale_issue_after_another_clerk_issued_is_refused(draft, clerk, django_capture_on_commit_callbacks):
    stale = approve(draft)
    fresh = type(draft).objects.get(pk=draft.pk)
    issuing.issue(fresh, clerk)
    stale.status = DispatchStatus.APPROVED  # the page the second clerk still has open
    with pytest.raises(WorkflowError, match="no longer applies"):
        issuing.issue(stale, clerk)
    assert RegisterCounter.objects.get().last_number == 1


def test_recall_marks_the_dispatch_recalled_and_queues_a_notice_per_delivery_sent(
    draft, clerk, django_capture_on_commit_callbacks
):
    draft.groups.add(make_group(2))
    issuing.issue(approve(draft), clerk)
    first, second = draft.target_organizations().order_by("pk")
    Delivery.objects.create(dispatch=draft, organization=first, address="a@x.vn", status=DeliveryStatus.SENT,
                            sent_at=draft.issued_at)  # fmt: skip
    Delivery.objects.create(dispatch=draft, organization=second, address="b@x.vn", status=DeliveryStatus.QUEUED)
    with django_capture_on_commit_callbacks() as callbacks:
        assert issuing.recall(draft, clerk, "Sai đối tượng.") == 1
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.RECALLED and draft.recall_reason == "Sai đối tượng."
    assert list(RecallNotice.objects.values_list("address", flat=True)) == ["a@x.vn"]
    assert Delivery.objects.get(address="b@x.vn").status == DeliveryStatus.CANCELLED
    assert len(callbacks) == 1


def test_a_refused_recall_is_audited_and_changes_nothing(draft, clerk, drafter, django_capture_on_commit_callbacks):
    draft.groups.add(make_group(1))
    issuing.issue(approve(draft), clerk)
    with pytest.raises(WorkflowError):
        issuing.recall(draft, drafter, "Không có quyền.")
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.ISSUED
    assert AuditEvent.objects.for_object(draft).filter(action="refused:recall", actor=drafter).exists()


def test_it_emails_each_of_fifty_organisations_separately_with_the_stored_pdf(draft, clerk, smtp_server, celery_worker):
    draft.groups.add(make_group(50))
    issuing.issue(approve(draft), clerk)
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
    issuing.issue(approve(draft), clerk)
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
        issuing.issue(approve(draft), clerk)
    assert draft.number == 1 and draft.series == "secret"
    assert not Delivery.objects.exists() and smtp_server.messages == []


def test_a_personalised_dispatch_queues_the_making_of_its_copies_and_a_shared_one_its_fan_out(
    draft, clerk, fresh_broker, django_capture_on_commit_callbacks
):
    from tests.notices.test_copies import personalised

    own = personalised(draft, 1)
    shared = type(draft).objects.create(
        issuer=draft.issuer, drafting_unit=draft.drafting_unit, signer=draft.signer, subject="chung",
        body="<p>Nội dung chung./.</p>", created_by=draft.created_by)  # fmt: skip
    shared.groups.add(*own.groups.all())
    shared = approve(shared)
    queued_tasks("render")
    with django_capture_on_commit_callbacks(execute=True):
        issuing.issue(own, clerk)
        issuing.issue(shared, clerk)
    assert queued_tasks("render") == [("notices.make_copies", [own.pk]), ("notices.fan_out", [shared.pk])]


def test_an_urgent_dispatch_keeps_the_confirmation_date_its_drafter_set(draft, clerk):
    import datetime

    from notices.models import Urgency

    draft.groups.add(make_group(1))
    draft.urgency, draft.acknowledge_by = Urgency.URGENT, datetime.date(2030, 1, 31)
    draft.save()
    issuing.issue(approve(draft), clerk)
    draft.refresh_from_db()
    assert draft.acknowledge_by == datetime.date(2030, 1, 31)
