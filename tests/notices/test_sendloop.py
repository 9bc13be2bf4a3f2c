"""The send loop (notices/sendloop.py): claims, classification of failures, retries, commits and the rate limit."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from django.db import connections, transaction
from django.utils import timezone

from notices import sendloop, sweeper
from notices.models import Delivery, DeliveryEvent, Dispatch, DispatchStatus
from notices.ratelimit import TokenBucket, client
from recipients.models import Suppression
from tests.notices.delivery_fixtures import S, event_types, ids_of, on_message
from tests.smtp_sink import free_port


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
def test_the_send_path_refuses_a_dispatch_that_became_secret(issue_to, smtp_server):
    dispatch = issue_to(2)
    Dispatch.objects.filter(pk=dispatch.pk).update(secrecy="mat")
    sendloop.send_batch(ids_of(dispatch))
    assert smtp_server.messages == []
    assert set(dispatch.deliveries.values_list("status", "last_error")) == {
        (S.FAILED, "Secret dispatches are never emailed.")
    }


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


def test_a_batch_that_stalled_past_the_sweeper_sends_none_of_the_rows_taken_back(
    transactional_db, issue_to, smtp_server, settings, monkeypatch
):
    settings.SEND_STUCK_SECONDS = 0  # the sweeper takes back every row still sending
    dispatch = issue_to(4)
    first, *rest = ids_of(dispatch)
    monkeypatch.setattr(sendloop, "clock", iter(range(0, 1000, 5)).__next__)  # a check before each message
    # As message 1 arrives the batch "stalls": the sweeper requeues its rows, another worker claims two of them.
    on_message(smtp_server, lambda n: n == 1 and (sweeper.sweep(lambda: False), Delivery.objects.claim(rest[:2])))

    assert sendloop.send_batch([first, *rest]) == 1
    assert len(smtp_server.messages) == 1  # only the message already on the wire when it stalled
    by_pk = {d.pk: (d.status, d.attempts) for d in Delivery.objects.filter(pk__in=rest)}
    assert by_pk == {rest[0]: (S.SENDING, 2), rest[1]: (S.SENDING, 2), rest[2]: (S.QUEUED, 1)}


@pytest.mark.django_db
def test_a_batch_replayed_while_its_rows_are_sending_sends_nothing(issue_to, smtp_server):
    dispatch = issue_to(3)
    ids = ids_of(dispatch)
    assert Delivery.objects.claim(ids) == ids  # a first worker holds them, mid-batch

    assert sendloop.send_batch(ids) == 0
    assert smtp_server.messages == []
    assert set(dispatch.deliveries.values_list("status", "attempts")) == {(S.SENDING, 1)}


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
def test_the_send_loop_takes_a_token_of_the_shared_bucket_for_each_message(issue_to, smtp_server, settings):
    dispatch = issue_to(3)
    settings.SEND_RATE_PER_SECOND, settings.SEND_RATE_BURST = 1, 1000  # refills one token a second
    bucket = TokenBucket("smtp")
    bucket.reset()
    before = time.time()
    assert sendloop.send_batch(ids_of(dispatch)) == 3
    tokens = client().hget(bucket.key, "tokens")
    assert tokens is not None and float(tokens) <= 1000 - 3 + (time.time() - before) * 1


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
