"""Bounces on the SMTP path (notices/bounces.py): DSNs read from a real dovecot mailbox by a real Celery worker."""

from __future__ import annotations

import uuid

import pytest

from notices import bounces, returnpath, sendloop, tasks
from notices.models import Delivery, DeliveryEvent, DeliveryStatus
from recipients.corrections import CorrectionItem
from recipients.models import Suppression, SuppressionReason
from tests.conftest import wait_until
from tests.notices.delivery_fixtures import ids_of
from tests.notices.mail_trust_fixtures import send_through_worker

S = DeliveryStatus
DSN = """\
From: Mail Delivery System <MAILER-DAEMON@mx.bhxh-hanoi.example.vn>
To: {to}
Subject: Undelivered Mail Returned to Sender
Date: Fri, 04 Dec 2026 09:05:00 +0700
Message-ID: <{message_id}@mx.bhxh-hanoi.example.vn>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-boundary"

--dsn-boundary
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.bhxh-hanoi.example.vn.
I'm sorry to have to inform you that your message could not be delivered.

--dsn-boundary
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.bhxh-hanoi.example.vn
Arrival-Date: Fri, 04 Dec 2026 09:04:58 +0700

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {diagnostic}

--dsn-boundary
Content-Type: text/rfc822-headers

From: congvan@bhxh.example.vn
To: {recipient}
Subject: [Số 07/BHXH-QLT] V/v phối hợp

--dsn-boundary--
"""


def dsn(to: str, recipient: str, action: str = "failed", status: str = "5.1.1",
        diagnostic: str = "550 5.1.1 <x>: Recipient address rejected: User unknown") -> bytes:  # fmt: skip
    """Return a delivery status notification as Postfix writes one (CRLF lines, as IMAP stores them)."""
    text = DSN.format(to=to, recipient=recipient, action=action, status=status, diagnostic=diagnostic,
                      message_id=uuid.uuid4().hex)  # fmt: skip
    return text.replace("\n", "\r\n").encode()


def poll_with_worker(mailbox) -> None:
    """Run the beat task on the real worker and wait until it has emptied the inbox."""
    tasks.poll_bounces.delay()
    wait_until(lambda: mailbox.messages("INBOX") == [])


@pytest.fixture
def mailed(issue_to, smtp_server, bounce_mailbox, celery_worker):
    """Return the deliveries of a dispatch the worker sent over SMTP, each with its own return path."""
    dispatch = send_through_worker(issue_to(2))
    return [Delivery.objects.get(pk=pk) for pk in ids_of(dispatch)]


def test_each_message_leaves_with_its_deliverys_own_return_path(mailed, smtp_server):
    senders = {recipients[0]: sender for sender, recipients in smtp_server.handler.envelopes}
    for delivery in mailed:
        assert senders[delivery.address] == returnpath.address_for(delivery.pk)
        assert returnpath.delivery_id_of(senders[delivery.address]) == delivery.pk


def test_a_hard_bounce_marks_the_delivery_bounced_and_suppresses_the_address(mailed, bounce_mailbox):
    first, second = mailed
    bounce_mailbox.append(dsn(returnpath.address_for(first.pk), first.address))

    poll_with_worker(bounce_mailbox)

    first.refresh_from_db()
    assert first.status == S.BOUNCED and "5.1.1" in first.last_error
    suppression = Suppression.objects.active().get(address=first.address)
    assert (suppression.reason, suppression.source) == (SuppressionReason.HARD_BOUNCE, "tracking")  # as a webhook's
    assert CorrectionItem.objects.filter(address=first.address, organization_id=first.organization_id).count() == 1
    assert Delivery.objects.get(pk=second.pk).status == S.SENT
    assert not Suppression.objects.filter(address=second.address).exists()
    (kept,) = bounce_mailbox.messages("Processed")
    assert b"\\Flagged" not in kept[0]


def test_a_notice_read_again_changes_nothing(mailed, bounce_mailbox):
    first, _ = mailed
    notice = dsn(returnpath.address_for(first.pk), first.address)
    bounce_mailbox.append(notice)
    poll_with_worker(bounce_mailbox)
    events = DeliveryEvent.objects.filter(delivery=first).count()

    bounce_mailbox.append(notice)  # the same notice put back (or a move that failed)
    poll_with_worker(bounce_mailbox)

    assert DeliveryEvent.objects.filter(delivery=first).count() == events
    assert Suppression.objects.filter(address=first.address).count() == 1
    assert CorrectionItem.objects.filter(address=first.address).count() == 1
    assert len(bounce_mailbox.messages("Processed")) == 2


def test_a_soft_bounce_records_an_event_only(mailed, bounce_mailbox):
    first, _ = mailed
    bounce_mailbox.append(dsn(returnpath.address_for(first.pk), first.address, action="delayed", status="4.4.1",
                              diagnostic="451 4.4.1 Connection timed out"))  # fmt: skip

    poll_with_worker(bounce_mailbox)

    first.refresh_from_db()
    assert first.status == S.SENT
    (event,) = DeliveryEvent.objects.filter(delivery=first, type="dsn:delayed")
    assert "4.4.1" in event.detail
    assert not Suppression.objects.exists() and not CorrectionItem.objects.exists()


def test_a_forged_unmatched_or_malformed_notice_changes_nothing_and_is_kept_flagged(mailed, bounce_mailbox):
    first, second = mailed
    forged = returnpath.address_for(first.pk).replace(f"+{first.pk}-", f"+{second.pk}-")  # first's tag on second
    bounce_mailbox.append(dsn(forged, second.address))
    bounce_mailbox.append(dsn(returnpath.address_for(first.pk), second.address))  # ours, for another address
    bounce_mailbox.append(dsn("bounces@bhxh.example.vn", first.address))  # no token at all
    bounce_mailbox.append(b"From: someone@example.vn\r\nTo: " + returnpath.address_for(first.pk).encode()
                          + b"\r\nSubject: out of office\r\n\r\nI am away.\r\n")  # fmt: skip
    events = DeliveryEvent.objects.count()

    poll_with_worker(bounce_mailbox)

    assert {d.status for d in Delivery.objects.filter(pk__in=[first.pk, second.pk])} == {S.SENT}
    assert DeliveryEvent.objects.count() == events
    assert not Suppression.objects.exists() and not CorrectionItem.objects.exists()
    kept = bounce_mailbox.messages("Unmatched")
    assert len(kept) == 4 and all(b"\\Flagged" in flags for flags, _ in kept)
    assert b"out of office" in b"".join(raw for _, raw in kept)  # kept whole, for a person to read


def test_an_oversized_notice_is_kept_unread(mailed, bounce_mailbox, settings):
    first, _ = mailed
    settings.BOUNCE_MAX_MESSAGE_BYTES = 500
    bounce_mailbox.append(dsn(returnpath.address_for(first.pk), first.address))

    poll_with_worker(bounce_mailbox)

    assert Delivery.objects.get(pk=first.pk).status == S.SENT
    assert len(bounce_mailbox.messages("Unmatched")) == 1


@pytest.mark.django_db
def test_a_poll_reads_at_most_the_configured_number_of_messages(bounce_mailbox, settings):
    settings.BOUNCE_MAX_MESSAGES = 2
    for _ in range(3):
        bounce_mailbox.append(dsn("bounces@bhxh.example.vn", "office@example.vn"))

    assert bounces.poll() == {bounces.KEPT: 2}
    assert len(bounce_mailbox.messages("INBOX")) == 1


@pytest.mark.django_db
def test_a_mailbox_that_does_not_answer_is_tried_at_the_next_poll(bounce_mailbox, settings):
    bounce_mailbox.append(dsn("bounces@bhxh.example.vn", "office@example.vn"))
    settings.BOUNCE_IMAP_PASSWORD = "wrong"
    assert tasks.poll_bounces() == {}
    assert len(bounce_mailbox.messages("INBOX")) == 1


def test_without_a_bounce_address_the_envelope_sender_is_the_from_address(issue_to, smtp_server, settings):
    settings.BOUNCE_ADDRESS = ""
    dispatch = issue_to(1)
    sendloop.send_batch(ids_of(dispatch))
    assert smtp_server.handler.envelopes[0][0] == "congvan@bhxh.example.vn"
