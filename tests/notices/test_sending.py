from __future__ import annotations

import base64
import datetime
import hashlib
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.test.signals import template_rendered
from django.urls import reverse
from django.utils import timezone

from notices import acknowledgement, fanout, issuing, mail, sendloop, tasks
from notices.models import Delivery, DeliveryEvent, DeliveryStatus, Dispatch, DispatchStatus, Urgency
from notices.models.workflow import WorkflowError
from notices.ratelimit import TokenBucket, client
from notices.transports import TransportError
from recipients.models import Organization, OrganizationEmail, Suppression
from tests.conftest import approve, make_group, wait_until
from tests.notices.delivery_fixtures import PDF
from tests.smtp_sink import free_port


def settled(dispatch: Dispatch) -> bool:
    dispatch.refresh_from_db()
    return dispatch.status in (DispatchStatus.SENT, DispatchStatus.PARTLY_FAILED)


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


# --- The state machine, claims and classification (sendloop.send_batch called directly) ------------

S = DeliveryStatus


def ids_of(dispatch: Dispatch) -> list[int]:
    return list(dispatch.deliveries.order_by("pk").values_list("pk", flat=True))


def event_types(delivery: Delivery) -> list[str]:
    return list(delivery.events.order_by("at", "pk").values_list("type", flat=True))


def on_message(sink, react) -> None:
    """Call `react(n)` in its own thread (with its own database connection) as the sink receives message n."""
    handle = sink.handler.handle_DATA

    async def handle_data(server, session, envelope):
        reply = await handle(server, session, envelope)
        worker = threading.Thread(target=lambda: (react(len(sink.messages)), connections.close_all()))
        worker.start()
        worker.join()
        return reply

    sink.handler.handle_DATA = handle_data


@pytest.mark.django_db
def test_a_replayed_send_task_sends_nothing(issue_to, smtp_server):
    dispatch = issue_to(3)
    ids = ids_of(dispatch)

    assert sendloop.send_batch(ids) == 3
    assert sendloop.send_batch(ids) == 0  # the same task delivered again by the broker
    assert sendloop.send_batch(ids[:1]) == 0

    assert sorted(smtp_server.handler.counts.values()) == [1, 1, 1]
    for delivery in dispatch.deliveries.all():
        assert delivery.status == S.SENT and delivery.attempts == 1
        assert event_types(delivery) == ["queued", "sending", "sent"]
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.SENT


@pytest.mark.django_db
def test_a_transition_from_the_wrong_status_changes_nothing_and_writes_no_event(issue_to):
    dispatch = issue_to(1)
    (pk,) = ids_of(dispatch)

    assert not Delivery.objects.transition(pk, S.SENT, from_=[S.SENDING])
    assert Delivery.objects.transition(pk, S.CANCELLED, "operator")
    assert not Delivery.objects.transition(pk, S.CANCELLED, "operator again")

    assert event_types(Delivery.objects.get(pk=pk)) == ["queued", "cancelled"]


@pytest.mark.django_db
def test_a_batch_is_sent_over_one_smtp_connection(issue_to, smtp_server):
    dispatch = issue_to(5)
    sendloop.send_batch(ids_of(dispatch))
    assert len(smtp_server.messages) == 5 and smtp_server.handler.connections == 1


@pytest.mark.django_db
def test_550_fails_at_once_451_is_deferred_and_421_slows_the_bucket_without_spending_an_attempt(
    issue_to, smtp_server, settings
):
    settings.SEND_RETRY_BASE_SECONDS = 120  # long enough to wait in the database, not in Redis
    dispatch = issue_to(3)
    smtp_server.handler.refuse("office000@bhxh-hanoi.example.vn", "550 5.1.1 No such mailbox")
    smtp_server.handler.refuse("office001@bhxh-hanoi.example.vn", "451 4.7.1 Greylisted")
    smtp_server.handler.refuse("office002@bhxh-hanoi.example.vn", "421 4.7.0 Too many messages, slow down")

    assert sendloop.send_batch(ids_of(dispatch)) == 0

    refused, greylisted, throttled = dispatch.deliveries.order_by("address")
    assert (refused.status, refused.attempts) == (S.FAILED, 1) and "550 5.1.1 No such mailbox" in refused.last_error
    assert greylisted.status == S.DEFERRED and greylisted.attempts == 1 and "451" in greylisted.last_error
    assert greylisted.next_attempt_at > timezone.now() + datetime.timedelta(seconds=50)
    assert throttled.status == S.DEFERRED and throttled.attempts == 0 and "421" in throttled.last_error
    assert float(client().get(TokenBucket("smtp").slow_key)) == 0.5
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.SENDING  # deferred deliveries still wait


@pytest.mark.django_db
def test_a_deferred_delivery_is_sent_when_due_with_the_same_message_id(issue_to, smtp_server, settings):
    settings.SEND_RETRY_BASE_SECONDS = 120
    dispatch = issue_to(1)
    (pk,) = ids_of(dispatch)
    smtp_server.handler.refuse("office000@bhxh-hanoi.example.vn", "451 4.7.1 Greylisted")
    sendloop.send_batch([pk])
    assert sendloop.send_batch([pk]) == 0  # not due yet

    Delivery.objects.filter(pk=pk).update(next_attempt_at=timezone.now())
    assert sendloop.send_batch([pk]) == 1

    delivery = Delivery.objects.get(pk=pk)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (S.SENT, 2, "")
    assert event_types(delivery) == ["queued", "sending", "deferred", "sending", "sent"]
    (message,) = smtp_server.messages
    assert (
        message["Message-ID"] == f"<{delivery.provider_message_id}>" == f"<congvan.{dispatch.pk}.{pk}@bhxh.example.vn>"
    )


@pytest.mark.django_db
def test_it_fails_with_the_reason_when_the_retries_run_out(issue_to, smtp_server, settings):
    settings.SEND_MAX_ATTEMPTS = 2
    settings.SEND_RETRY_BASE_SECONDS = 120
    dispatch = issue_to(1)
    (pk,) = ids_of(dispatch)
    smtp_server.handler.refuse("office000@bhxh-hanoi.example.vn", "451 4.3.0 Busy", "451 4.3.0 Still busy")
    sendloop.send_batch([pk])
    Delivery.objects.filter(pk=pk).update(next_attempt_at=timezone.now())
    sendloop.send_batch([pk])

    delivery = Delivery.objects.get(pk=pk)
    assert delivery.status == S.FAILED and delivery.last_error == "451 4.3.0 Still busy"
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.PARTLY_FAILED


@pytest.mark.django_db
def test_it_retries_a_refused_connection(issue_to, settings, smtp_server):
    settings.SEND_RETRY_BASE_SECONDS = 120
    settings.EMAIL_PORT = free_port()
    dispatch = issue_to(1)
    sendloop.send_batch(ids_of(dispatch))
    (delivery,) = dispatch.deliveries.all()
    assert delivery.status == S.DEFERRED and "ConnectionRefusedError" in delivery.last_error


@pytest.mark.django_db
def test_the_email_carries_the_dispatch_the_pdf_the_acknowledgement_link_and_the_scam_notice(issue_to, smtp_server):
    dispatch = issue_to(1, urgency=Urgency.EXPRESS)
    (pk,) = ids_of(dispatch)
    sendloop.send_batch([pk])

    (message,) = smtp_server.messages
    assert message["To"] == "office000@bhxh-hanoi.example.vn"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Kính gửi: Bảo hiểm xã hội cơ sở số 000" in text
    assert "07/BHXH-QLT" in text and dispatch.subject in text and "HỎA TỐC" in text
    assert acknowledgement.url(pk) in text and "Xác nhận đã nhận văn bản" in html
    assert "OTP" in text and "Zalo" in text and "1900 9068" in text and "1900 9068" in html
    assert "Mã xác thực" not in text and "xac-thuc" not in text  # no code before the document concern sets one
    assert "<img" not in html  # no tracking pixels
    (pdf,) = message.iter_attachments()
    assert pdf.get_content() == PDF and pdf.get_filename() == "07-BHXH-QLT.pdf"


@pytest.mark.django_db
def test_the_email_shows_the_verification_code_and_link_when_the_dispatch_has_them(issue_to, smtp_server):
    dispatch = issue_to(1, short_code="K7Q2-9XPA", verification_code="a" * 40)
    sendloop.send_batch(ids_of(dispatch))
    text = smtp_server.messages[0].get_body(("plain",)).get_content()
    assert "K7Q2-9XPA" in text and dispatch.verification_url() in text


@pytest.mark.django_db
def test_the_shared_parts_are_built_once_per_dispatch(issue_to, smtp_server):
    dispatch = issue_to(4)
    mail._cache.clear()
    rendered = []

    def count(sender, template, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(count)
    try:
        ids = ids_of(dispatch)
        sendloop.send_batch(ids[:2])
        sendloop.send_batch(ids[2:])
    finally:
        template_rendered.disconnect(count)
    assert rendered.count("notices/email/dispatch.txt") == 1 and len(smtp_server.messages) == 4


@pytest.mark.django_db
def test_copied_addresses_of_one_organisation_get_their_own_messages(issue_to, smtp_server):
    dispatch = issue_to(1)
    org = Organization.objects.get()
    OrganizationEmail.objects.create(organization=org, address="vanthu.copy@bhxh-hanoi.example.vn")
    fanout.write_page(dispatch, "", None)
    sendloop.send_batch(ids_of(dispatch))
    assert sorted(rcpts for _, rcpts in smtp_server.handler.envelopes) == [
        ["office000@bhxh-hanoi.example.vn"],
        ["vanthu.copy@bhxh-hanoi.example.vn"],
    ]


@pytest.mark.django_db
def test_a_suppressed_address_is_recorded_as_suppressed_and_never_sent(draft, clerk, issue_to, smtp_server):
    Suppression.objects.create(address="office001@bhxh-hanoi.example.vn", reason="bounce")
    dispatch = issue_to(3)
    sendloop.send_batch(ids_of(dispatch))

    suppressed = Delivery.objects.get(address="office001@bhxh-hanoi.example.vn")
    assert suppressed.status == S.SUPPRESSED and event_types(suppressed) == ["suppressed"]
    assert "office001@bhxh-hanoi.example.vn" not in smtp_server.handler.counts
    assert len(smtp_server.messages) == 2


@pytest.mark.django_db
def test_the_send_path_refuses_a_dispatch_that_became_secret(issue_to, smtp_server):
    dispatch = issue_to(2)
    Dispatch.objects.filter(pk=dispatch.pk).update(secrecy="mat")
    sendloop.send_batch(ids_of(dispatch))
    assert smtp_server.messages == []
    assert set(dispatch.deliveries.values_list("status", "last_error")) == {
        (S.FAILED, "Secret dispatches are never emailed.")
    }


@pytest.mark.django_db
def test_the_fan_out_refuses_a_secret_dispatch(draft, clerk, fresh_broker):
    draft.groups.add(make_group(2))
    Dispatch.objects.filter(pk=draft.pk).update(secrecy="toi_mat", status=DispatchStatus.ISSUED, number=3)
    tasks.fan_out(draft.pk)
    tasks.fan_out_page(draft.pk, "", None, 2)
    assert not Delivery.objects.exists()
    with pytest.raises(TransportError):
        fanout.begin_sending(Dispatch.objects.get(pk=draft.pk))


@pytest.mark.django_db
def test_create_deliveries_writes_every_address_in_one_go_and_refuses_a_secret_dispatch(draft, clerk, settings):
    settings.SEND_FANOUT_PAGE_SIZE = 3
    draft.groups.add(make_group(7))
    Dispatch.objects.filter(pk=draft.pk).update(status=DispatchStatus.ISSUED, number=2)
    draft.refresh_from_db()
    assert fanout.create_deliveries(draft) == 7
    Dispatch.objects.filter(pk=draft.pk).update(secrecy="tuyet_mat")
    draft.refresh_from_db()
    with pytest.raises(TransportError) as refused:
        fanout.create_deliveries(draft)
    assert refused.value.permanent


@pytest.mark.django_db
def test_urgent_dispatches_go_to_the_urgent_queue(draft):
    assert draft.send_queue == "send"
    draft.urgency = Urgency.VERY_URGENT
    assert draft.send_queue == "send-urgent"


# --- Operator controls ---------------------------------------------------------------------------


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


def test_pausing_mid_batch_gives_the_rest_back_without_spending_attempts(
    transactional_db, issue_to, smtp_server, monkeypatch
):
    dispatch = issue_to(3)
    ids = ids_of(dispatch)
    monkeypatch.setattr(sendloop, "clock", iter(range(0, 1000, 5)).__next__)  # a check before each message
    on_message(smtp_server, lambda n: n == 1 and dispatch.pause())  # the operator pauses as message 1 arrives

    assert sendloop.send_batch(ids) == 1
    first, *rest = dispatch.deliveries.order_by("pk")
    assert first.status == S.SENT
    assert [(d.status, d.attempts) for d in rest] == [(S.QUEUED, 0), (S.QUEUED, 0)]


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
def test_the_outbox_backend_writes_one_eml_per_delivery_with_its_message_id(issue_to, settings, tmp_path):
    settings.EMAIL_DELIVERY = "outbox"
    dispatch = issue_to(2)
    sendloop.send_batch(ids_of(dispatch))
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2
    ids = {d.provider_message_id for d in dispatch.deliveries.all()}
    assert {f"congvan.{dispatch.pk}.{pk}@bhxh.example.vn" for pk in ids_of(dispatch)} == ids
    assert all(base64.b64encode(PDF)[:20] in f.read_bytes() for f in files)


@pytest.mark.django_db
def test_the_appendices_follow_the_dispatch_pdf_in_order(draft, issue_to, smtp_server):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from weasyprint import HTML

    from notices.models import Appendix

    annex = [HTML(string=f"<p>Phụ lục {n}</p>").write_pdf() for n in (1, 2)]
    for position in (2, 1):
        upload = SimpleUploadedFile(f"annex-{position}.pdf", annex[position - 1])
        Appendix.objects.create(dispatch=draft, title=f"Phụ lục {position}", position=position, file=upload)
    stored = [item.read() for item in draft.appendices.order_by("position")]  # as rewritten without active content
    dispatch = issue_to(1)
    sendloop.send_batch(ids_of(dispatch))

    (message,) = smtp_server.messages
    files = [(part.get_filename(), part.get_content()) for part in message.iter_attachments()]
    assert files == [
        ("07-BHXH-QLT.pdf", PDF),
        ("07-BHXH-QLT-phu-luc-1.pdf", stored[0]),
        ("07-BHXH-QLT-phu-luc-2.pdf", stored[1]),
    ]


# --- Claims and states: what a duplicated task, a second worker or a late actor must never do ---------


@pytest.mark.django_db
def test_a_batch_replayed_while_its_rows_are_sending_sends_nothing(issue_to, smtp_server):
    dispatch = issue_to(3)
    ids = ids_of(dispatch)
    assert Delivery.objects.claim(ids) == ids  # a first worker holds them, mid-batch

    assert sendloop.send_batch(ids) == 0
    assert smtp_server.messages == []
    assert set(dispatch.deliveries.values_list("status", "attempts")) == {(S.SENDING, 1)}


def test_two_workers_claiming_one_batch_at_once_never_both_get_a_row(transactional_db, issue_to):
    dispatch = issue_to(3)
    ids = ids_of(dispatch)
    second: list = []

    def other_worker():
        try:
            second.append(Delivery.objects.claim(ids))
        except Exception as exc:  # e.g. a claim that found its rows changed under it
            second.append(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        first = Delivery.objects.claim(ids)  # not committed yet: the rows are locked
        worker = threading.Thread(target=other_worker)
        worker.start()
        worker.join(timeout=10)
    worker.join()
    assert first == ids and second == [[]]
    assert all(event_types(d).count("sending") == 1 for d in dispatch.deliveries.all())


@pytest.mark.django_db
def test_record_sent_leaves_a_delivery_that_another_actor_moved_first(issue_to):
    dispatch = issue_to(2)
    moved, kept = ids_of(dispatch)
    Delivery.objects.claim([moved, kept])
    assert Delivery.objects.transition(moved, S.QUEUED, "requeued by the sweeper", from_=[S.SENDING])

    assert Delivery.objects.record_sent([(moved, "pm-1", timezone.now()), (kept, "pm-2", timezone.now())]) == 1

    requeued = Delivery.objects.get(pk=moved)
    assert (requeued.status, requeued.provider_message_id, requeued.sent_at) == (S.QUEUED, "", None)
    assert "sent" not in event_types(requeued)
    assert Delivery.objects.get(pk=kept).status == S.SENT


def test_accepted_messages_are_committed_every_send_commit_every_messages(
    transactional_db, issue_to, smtp_server, settings
):
    settings.SEND_COMMIT_EVERY, settings.SEND_COMMIT_SECONDS = 2, 3600
    dispatch = issue_to(4)
    committed: dict[int, int] = {}
    on_message(smtp_server, lambda n: committed.setdefault(n, Delivery.objects.filter(status=S.SENT).count()))

    assert sendloop.send_batch(ids_of(dispatch)) == 4
    assert committed == {1: 0, 2: 0, 3: 2, 4: 2}  # what another connection saw as each message arrived
    assert Delivery.objects.filter(status=S.SENT).count() == 4


@pytest.mark.django_db
def test_a_dispatch_does_not_finish_before_its_fan_out_has(draft, clerk, fresh_broker, smtp_server, settings):
    settings.SEND_FANOUT_PAGE_SIZE = 2
    draft.groups.add(make_group(3))
    draft.number, draft.year, draft.series = 4, 2026, "regular"
    draft.store_pdf(PDF)
    draft.save()
    Dispatch.objects.filter(pk=draft.pk).update(status=DispatchStatus.ISSUED)
    draft.refresh_from_db()
    fanout.begin_sending(draft)
    (first_page, last_page), expected = fanout.plan_pages(draft)
    assert sendloop.send_batch(fanout.write_page(draft, *first_page)) == 2
    fanout.finish_fan_out_if_complete(draft, expected)

    draft.refresh_from_db()
    assert draft.status == DispatchStatus.SENDING and draft.fanned_out_at is None
    assert sendloop.send_batch(fanout.write_page(draft, *last_page)) == 1
    fanout.finish_fan_out_if_complete(draft, expected)
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.SENT


@pytest.mark.django_db
def test_the_send_loop_takes_a_token_of_the_shared_bucket_for_each_message(issue_to, smtp_server, settings):
    dispatch = issue_to(3)
    settings.SEND_RATE_PER_SECOND, settings.SEND_RATE_BURST = 1, 1000  # refills one token a second
    bucket = TokenBucket("smtp")
    bucket.reset()
    before = time.time()
    assert sendloop.send_batch(ids_of(dispatch)) == 3
    tokens = client().hget(bucket.key, "tokens")
    assert tokens is not None and float(tokens) <= 1000 - 3 + (time.time() - before) * 1


# --- What the screen promises ------------------------------------------------------------------------


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
def test_a_subject_with_control_characters_is_refused_on_save(draft):
    for subject in ["phối hợp\r\nBcc: all@example.vn", "phối hợp\nthu", "phối hợp\x07"]:
        draft.subject = subject
        with pytest.raises(ValidationError):
            draft.save()
        with pytest.raises(ValidationError):
            draft.full_clean()
    assert Dispatch.objects.get(pk=draft.pk).subject == "phối hợp đôn đốc đóng BHXH, BHYT năm 2026"


@pytest.mark.django_db
def test_a_batch_that_cannot_build_its_messages_fails_them_with_the_reason(issue_to, smtp_server):
    dispatch = issue_to(2)
    Dispatch.objects.filter(pk=dispatch.pk).update(subject="phối hợp\r\nBcc: all@example.vn")  # past every check
    assert sendloop.send_batch(ids_of(dispatch)) == 0
    assert smtp_server.messages == []
    (row,) = set(dispatch.deliveries.values_list("status", "last_error"))
    assert row[0] == S.FAILED and row[1].startswith("BadHeaderError")
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.PARTLY_FAILED


@pytest.mark.django_db
def test_a_cancel_of_deliveries_that_never_failed_does_not_read_partly_failed(issue_to, smtp_server):
    dispatch = issue_to(3)
    assert sendloop.send_batch(ids_of(dispatch)[:1]) == 1
    assert dispatch.cancel() == 2
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.SENT and not dispatch.can_resend


@pytest.mark.django_db
def test_resend_is_offered_only_when_something_did_not_arrive(client, clerk, issue_to, smtp_server):
    dispatch = issue_to(2)
    smtp_server.handler.refuse("office001@bhxh-hanoi.example.vn", "550 5.1.1 No such mailbox")
    client.force_login(clerk)
    page = reverse("admin:notices_dispatch_change", args=[dispatch.pk])
    assert sendloop.send_batch(ids_of(dispatch)[:1]) == 1
    sendloop.send_batch(ids_of(dispatch)[1:])
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.PARTLY_FAILED and dispatch.can_resend
    assert '<li data-when="resend">' in client.get(page).content.decode(), "shown"

    Delivery.objects.filter(status=S.FAILED).update(status=S.SENT)
    Dispatch.objects.filter(pk=dispatch.pk).update(status=DispatchStatus.SENT)
    dispatch.refresh_from_db()
    assert not dispatch.can_resend
    assert '<li data-when="resend" hidden' in client.get(page).content.decode(), "drawn hidden, for the live panel"
    with pytest.raises(WorkflowError):
        dispatch.resend_undelivered()


@pytest.mark.django_db
def test_the_test_copy_carries_a_working_acknowledgement_link(client, issue_to, smtp_server, settings):
    dispatch = issue_to(1)
    copy = dispatch.queue_test_copy("vanthu@bhxh.example.vn")
    sendloop.send_batch([copy])
    text = smtp_server.messages[0].get_body(("plain",)).get_content()
    assert acknowledgement.url(copy) in text and f"{settings.PUBLIC_BASE_URL}/\n" not in text
    assert client.get(acknowledgement.url(copy).removeprefix(settings.PUBLIC_BASE_URL)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("urgency", [Urgency.EXPRESS, Urgency.VERY_URGENT, Urgency.URGENT])
def test_an_urgent_dispatch_says_so_in_its_subject_and_priority_headers(issue_to, smtp_server, urgency):
    dispatch = issue_to(1, urgency=urgency)
    sendloop.send_batch(ids_of(dispatch))
    (message,) = smtp_server.messages
    assert message["Subject"] == f"[{urgency.label}] [Số 07/BHXH-QLT] V/v {dispatch.subject}"
    assert (message["X-Priority"], message["Importance"], message["Priority"]) == ("1 (Highest)", "high", "urgent")


@pytest.mark.django_db
def test_a_normal_dispatch_has_no_priority_headers(issue_to, smtp_server):
    sendloop.send_batch(ids_of(issue_to(1)))
    (message,) = smtp_server.messages
    assert message["X-Priority"] is None and message["Importance"] is None


@pytest.mark.django_db
def test_the_agency_is_named_in_sentence_case_inside_a_sentence(issue_to, smtp_server):
    sendloop.send_batch(ids_of(issue_to(1)))
    (message,) = smtp_server.messages
    for body in (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()):
        assert "Bảo hiểm xã hội thành phố Hà Nội gửi Quý cơ quan" in body
        assert "BẢO HIỂM XÃ HỘI THÀNH PHỐ HÀ NỘI gửi" not in body
        assert "Bảo hiểm xã hội thành phố Hà Nội không bao giờ yêu cầu" in body


@pytest.mark.django_db
def test_an_address_suppressed_after_the_fan_out_is_not_sent_by_the_loop(issue_to, smtp_server):
    dispatch = issue_to(2)
    Suppression.objects.create(address="office001@bhxh-hanoi.example.vn", reason="complaint")
    assert sendloop.send_batch(ids_of(dispatch)) == 1
    assert [rcpts for _, rcpts in smtp_server.handler.envelopes] == [["office000@bhxh-hanoi.example.vn"]]
    late = Delivery.objects.get(address="office001@bhxh-hanoi.example.vn")
    assert late.status == S.SUPPRESSED and event_types(late) == ["queued", "sending", "suppressed"]


@pytest.mark.django_db
def test_a_batch_whose_redis_is_down_waits_for_the_sweeper_instead_of_failing(issue_to, smtp_server, settings):
    dispatch = issue_to(2)
    reachable = settings.SEND_RATE_REDIS_URL
    settings.SEND_RATE_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # Redis restarting: nothing listens
    client.cache_clear()
    try:
        assert sendloop.send_batch(ids_of(dispatch)) == 0
    finally:
        settings.SEND_RATE_REDIS_URL = reachable
        client.cache_clear()
    assert smtp_server.messages == []
    rows = list(dispatch.deliveries.values_list("status", "attempts", "next_attempt_at", "last_error"))
    assert {(status, attempts) for status, attempts, _, _ in rows} == {(S.DEFERRED, 0)}  # no attempt spent
    assert all(due is not None and error.startswith("ConnectionError") for _, _, due, error in rows)
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.SENDING

    dispatch.deliveries.update(next_attempt_at=timezone.now())  # the sweeper's turn: due now
    assert sendloop.send_batch(ids_of(dispatch)) == 2
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.SENT


def test_a_bulk_move_skips_a_row_another_worker_holds(transactional_db, issue_to):
    dispatch = issue_to(2)
    held, free = ids_of(dispatch)
    moved: list = []

    def operator():
        try:
            moved.append(Delivery.objects.filter(pk__in=[held, free]).move_all(S.CANCELLED, "cancelled"))
        except Exception as exc:  # reported by the assertion below
            moved.append(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        list(Delivery.objects.filter(pk=held).select_for_update())  # a worker holds this row, mid-send
        cancel = threading.Thread(target=operator)
        cancel.start()
        cancel.join(timeout=10)
    cancel.join()
    assert moved == [[free]], "a cancel neither waits for a worker's row nor takes it from under the worker"
    assert Delivery.objects.get(pk=held).status == S.QUEUED


@pytest.mark.django_db
def test_release_gives_back_only_the_named_rows_still_sending_with_the_reason(issue_to):
    dispatch = issue_to(3)
    named, other, failed = ids_of(dispatch)
    Delivery.objects.claim([named, other, failed])
    assert Delivery.objects.transition(failed, S.FAILED, "550 no such user", from_=[S.SENDING])

    assert Delivery.objects.release([named, failed], "paused by the operator") == [named]
    statuses = dict(dispatch.deliveries.values_list("pk", "status"))
    assert statuses == {named: S.QUEUED, other: S.SENDING, failed: S.FAILED}
    assert Delivery.objects.get(pk=named).attempts == 0, "a release spends no attempt"
    release = DeliveryEvent.objects.filter(delivery_id=named).order_by("pk").last()
    assert release is not None and (release.type, release.detail) == (S.QUEUED, "paused by the operator")
