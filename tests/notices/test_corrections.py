"""The correction loop across the directory and the sending side: what an address missed, the link's email, the
steward's approval (audited), and the missed dispatches resent through a real worker to a real SMTP server."""

from __future__ import annotations

import pytest
from django.utils import timezone

from notices import corrections, fanout
from notices.models import AuditEvent, Delivery, DeliveryStatus, Dispatch, DispatchStatus
from recipients.corrections import CorrectionItem, CorrectionRequest, CorrectionStatus
from recipients.models import Suppression
from tests.conftest import wait_until
from tests.notices.correction_fixtures import BAD, NEW, OTHER, answered
from tests.notices.delivery_fixtures import PDF

S = DeliveryStatus


def another_dispatch(bounced: Dispatch, number: int, clerk, status: str = DispatchStatus.ISSUED) -> Dispatch:
    """Issue another dispatch to the same office (its address now suppressed) and write its deliveries."""
    dispatch = Dispatch.objects.create(issuer=bounced.issuer, drafting_unit=bounced.drafting_unit,
                                       signer=bounced.signer, subject=f"công văn tiếp theo số {number}",
                                       body="<p>Nội dung./.</p>", status=DispatchStatus.APPROVED)  # fmt: skip
    dispatch.groups.set(bounced.groups.all())
    dispatch.store_pdf(PDF)
    dispatch.save()
    Dispatch.objects.filter(pk=dispatch.pk).update(status=DispatchStatus.ISSUED, number=number, year=2026,
                                                    series="regular", issued_at=timezone.now(), issued_by=clerk)  # fmt: skip
    dispatch.refresh_from_db()
    fanout.create_deliveries(dispatch)
    dispatch.deliveries.filter(address=OTHER).update(status=S.FAILED)  # the other address did not work either
    if status != DispatchStatus.ISSUED:
        Dispatch.objects.filter(pk=dispatch.pk).update(status=status)
    return dispatch


def test_an_address_missed_the_dispatch_that_bounced_and_those_suppressed_since(bounced, item, clerk):
    later = another_dispatch(bounced, 8, clerk)
    another_dispatch(bounced, 9, clerk, status=DispatchStatus.RECALLED)  # recalled: nothing to catch up

    assert later.deliveries.get(address=BAD).status == S.SUPPRESSED
    assert corrections.missed_dispatch_ids(item) == [bounced.pk, later.pk]
    assert corrections.with_missed(CorrectionItem.objects.all()).get().missed == 2


def test_a_dispatch_received_at_another_address_is_not_missed(bounced, item, clerk):
    Delivery.objects.create(dispatch=bounced, organization=item.organization, organization_name="x", address=OTHER,
                            status=S.DELIVERED)  # fmt: skip

    assert corrections.missed_dispatch_ids(item) == []
    assert corrections.with_missed(CorrectionItem.objects.all()).get().missed == 0


def test_a_link_is_emailed_to_the_other_addresses_in_vietnamese_and_audited(item, steward, smtp_server):
    request, addresses = corrections.send_link(item, steward)

    assert addresses == [OTHER]
    ((sender, rcpts),) = smtp_server.handler.envelopes
    assert rcpts == [OTHER]
    message = smtp_server.messages[0]
    body = message.get_body(("plain",)).get_content()
    assert "xác nhận" in message["Subject"].lower() and BAD in body
    token = body.split("/sua-dia-chi/")[1].split("/")[0]
    assert CorrectionRequest.objects.of_token(token) == request
    item.refresh_from_db()
    assert item.status == CorrectionStatus.ASKED
    event = AuditEvent.objects.get(action="correction_link_sent")
    assert event.details["to"] == [OTHER] and token not in str(event.details)


def test_a_link_for_an_organisation_with_no_other_address_must_be_printed(item, steward):
    item.organization.emails.exclude(address=BAD).delete()

    with pytest.raises(corrections.CorrectionRefused):
        corrections.send_link(item, steward)
    _request, url = corrections.print_link(item, steward)
    assert "/sua-dia-chi/" in url and AuditEvent.objects.filter(action="correction_link_printed").exists()


def test_the_approval_is_applied_to_the_directory_lifts_the_suppression_and_is_audited(item, steward):
    answer = answered(item, steward, addresses=(NEW, BAD), primary=NEW)

    corrections.approve(answer, steward)

    assert dict(item.organization.emails.values_list("address", "primary")) == {NEW: True, BAD: False}
    assert not Suppression.objects.active().filter(address=BAD).exists()
    event = AuditEvent.objects.get(action="correction_approved")
    assert event.actor == steward and event.details["after"] == [NEW, BAD] and event.details["lifted"] == [BAD]
    assert sorted(event.details["before"]) == sorted([BAD, OTHER])
    with pytest.raises(corrections.CorrectionRefused):
        corrections.approve(answer, steward)


def test_a_rejection_is_audited_and_changes_nothing(item, steward):
    corrections.reject(answered(item, steward), steward)

    assert AuditEvent.objects.filter(action="correction_rejected").count() == 1
    assert sorted(item.organization.emails.values_list("address", flat=True)) == sorted([BAD, OTHER])


def test_missed_dispatches_are_resent_once_through_a_worker_to_the_corrected_address(
    bounced, item, clerk, steward, smtp_server, celery_worker
):
    later = another_dispatch(bounced, 8, clerk)
    corrections.approve(answered(item, steward), steward)

    queued = corrections.resend_missed(item, steward)

    assert sorted(queued) == [bounced.pk, later.pk]
    wait_until(lambda: Delivery.objects.filter(address=NEW, status=S.SENT).count() == 2, timeout=30)
    assert sorted(rcpts[0] for _, rcpts in smtp_server.handler.envelopes) == [NEW, NEW]
    subjects = sorted(str(m["Subject"]) for m in smtp_server.messages)
    assert any("07/" in s for s in subjects) and any("08/" in s for s in subjects)
    assert AuditEvent.objects.get(action="correction_resent").details["dispatches"] == sorted(queued)
    with pytest.raises(corrections.CorrectionRefused):
        corrections.resend_missed(item, steward)
    assert Delivery.objects.filter(address=NEW).count() == 2


def test_an_unresolved_item_resends_nothing(item, steward):
    with pytest.raises(corrections.CorrectionRefused):
        corrections.resend_missed(item, steward)
    assert not Delivery.objects.filter(address=NEW).exists()
