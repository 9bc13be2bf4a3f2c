"""Status callbacks (api/callbacks.py, api/tasks.py): collected from the delivery events of a key's dispatches,
POSTed signed to a real HTTP server on 127.0.0.1 (allow-listed), retried by a real Celery worker, given up at last."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connections, transaction

from api import callbacks
from api.models import Callback, CallbackStatus, KeyDispatch, Scope
from notices import acknowledgement
from notices.models import AuditEvent, Delivery, DeliveryEvent
from tests.api.conftest import new_key, verify
from tests.conftest import wait_until


@pytest.fixture
def watched(sent, drafter, receiver):
    """The sent dispatch, created through a key whose callback URL is the receiver's."""
    key, _secret = new_key(drafter, [Scope.READ], callback_url=receiver.url)
    KeyDispatch.objects.create(key=key, dispatch=sent)
    return key


def test_collect_writes_one_callback_per_new_event_of_the_keys_own_dispatches(watched, sent, draft, fresh_broker,
                                                                              drafter, receiver):  # fmt: skip
    other, _ = new_key(drafter, [Scope.READ], callback_url=receiver.url)  # created no dispatch: owed nothing
    assert callbacks.collect() == 1
    first = Callback.objects.get()
    assert (first.key, first.payload["status"], first.payload["dispatch_id"]) == (watched, "delivered", sent.pk)
    assert first.payload["notation"] == sent.notation and first.payload["type"] == "status"
    assert callbacks.collect() == 0, "an event is called back once"
    delivery = Delivery.objects.filter(dispatch=sent, acknowledged_at__isnull=True).first()
    acknowledgement.record(delivery.pk, "203.0.113.9")
    assert callbacks.collect() == 1
    ack = Callback.objects.order_by("-pk").first().payload
    assert (ack["type"], ack["delivery_id"], ack["address"]) == ("acknowledgement", delivery.pk, delivery.address)
    assert "ip" not in json.dumps(ack), "the reader's address is never passed on"
    assert not Callback.objects.filter(key=other).exists()


def test_an_event_younger_than_the_settle_time_waits_for_the_next_collection(watched, settings, fresh_broker):
    settings.CALLBACK_SETTLE_SECONDS = 3600
    assert callbacks.collect() == 0
    settings.CALLBACK_SETTLE_SECONDS = 0
    assert callbacks.collect() == 1


def test_it_posts_a_signed_callback_and_retries_after_a_503(watched, receiver, celery_worker, fresh_broker):
    receiver.answers = [503]
    callbacks.collect()
    callback = Callback.objects.get()
    wait_until(lambda: Callback.objects.get(pk=callback.pk).status == CallbackStatus.SENT, timeout=30)
    assert len(receiver.calls) == 2
    for call in receiver.calls:
        assert verify(call, watched.callback_secret)
        assert call["headers"]["Content-Type"] == "application/json"
        assert abs(int(call["headers"]["X-Congvan-Timestamp"]) - time.time()) < 120
    assert receiver.payloads()[1] == callback.payload
    assert Callback.objects.get(pk=callback.pk).attempts == 2


def test_a_forged_signature_does_not_verify(watched, receiver, celery_worker, fresh_broker):
    callbacks.collect()
    wait_until(lambda: receiver.calls, timeout=30)
    call = receiver.calls[0]
    assert not verify({**call, "body": call["body"].replace(b"delivered", b"bounced")}, watched.callback_secret)
    assert not verify(call, "another-secret")


def test_a_callback_is_given_up_after_the_last_attempt_and_shown_in_the_admin(watched, receiver, settings,
                                                                              celery_worker, fresh_broker,
                                                                              admin_client):  # fmt: skip
    settings.CALLBACK_MAX_ATTEMPTS = 3
    receiver.answers = [503] * 10
    callbacks.collect()
    callback = Callback.objects.get()
    wait_until(lambda: Callback.objects.get(pk=callback.pk).status == CallbackStatus.FAILED, timeout=30)
    callback.refresh_from_db()
    assert (len(receiver.calls), callback.attempts, callback.last_error) == (3, 3, "HTTP 503")
    page = admin_client.get("/admin/api/callback/?status__exact=failed").content.decode()
    assert "Given up" in page and "HTTP 503" in page


def test_a_client_error_is_not_retried(watched, receiver, celery_worker, fresh_broker):
    receiver.answers = [410]
    callbacks.collect()
    wait_until(lambda: Callback.objects.get().status == CallbackStatus.FAILED, timeout=30)
    assert len(receiver.calls) == 1


@pytest.mark.parametrize("ip", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "::1",
                                "fe80::1", "0.0.0.0", "100.64.0.1", "224.0.0.1", "::ffff:127.0.0.1"])  # fmt: skip
def test_no_callback_goes_to_a_special_address(ip, settings):
    settings.CALLBACK_ALLOWED_NETWORKS = []
    assert not callbacks.allowed_address(ip)


def test_public_and_allow_listed_addresses_are_allowed(settings):
    settings.CALLBACK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert callbacks.allowed_address("203.0.114.10") or callbacks.allowed_address("8.8.8.8")
    assert callbacks.allowed_address("10.20.3.4") and not callbacks.allowed_address("10.21.3.4")


def test_it_refuses_the_receiver_on_loopback_unless_allow_listed(receiver, settings):
    settings.CALLBACK_ALLOWED_NETWORKS = []
    with pytest.raises(callbacks.CallbackError) as refused:
        callbacks.post(receiver.url, b"{}", {})
    assert refused.value.permanent and "127.0.0.1" in str(refused.value)
    assert receiver.calls == []


def test_it_refuses_plain_http_unless_the_setting_allows_it(receiver, settings):
    settings.CALLBACK_ALLOW_HTTP = False
    with pytest.raises(callbacks.CallbackError) as refused:
        callbacks.post(receiver.url, b"{}", {})
    assert refused.value.permanent and receiver.calls == []


def test_it_reads_only_the_start_of_a_long_answer(receiver, settings):
    settings.CALLBACK_READ_TIMEOUT = 2
    receiver.answer_body = b"x" * (100 * 1024)
    receiver.hang_after_body = 5  # the rest never comes: reading it all would time out
    assert callbacks.post(receiver.url, b"{}", {}) == 200


def test_a_key_registers_its_https_callback_url(drafter, make_client, settings):
    key, client = make_client(drafter, [Scope.READ])
    answer = client.put_json("/api/v1/callback/", {"url": "https://eoffice.hanoi.example.vn/congvan"}).json()
    assert answer == {"url": "https://eoffice.hanoi.example.vn/congvan", "secret": key.callback_secret}
    assert len(key.callback_secret) == 64
    refused = client.put_json("/api/v1/callback/", {"url": "http://eoffice.hanoi.example.vn/congvan"})
    assert refused.status_code == 400
    assert refused.json()["fields"] == {"url": ["Địa chỉ gọi lại phải bắt đầu bằng https://."]}
    assert (
        AuditEvent.objects.get(action="api:callback_url").details["url"] == "https://eoffice.hanoi.example.vn/congvan"
    )


def test_a_recorded_event_reaches_the_callback_queue_only(watched, fresh_broker, django_capture_on_commit_callbacks):
    from config.celery import app

    with django_capture_on_commit_callbacks(execute=True):
        callbacks.collect()
    with app.connection_for_write() as connection:
        assert connection.default_channel.client.llen("callbacks") == 1
        assert connection.default_channel.client.llen("send") == 0
    assert DeliveryEvent.objects.count() == 1


def test_an_event_whose_transaction_commits_late_is_still_called_back(transactional_db, watched, sent, settings,
                                                                      fresh_broker):  # fmt: skip
    settings.CALLBACK_SETTLE_SECONDS, settings.CALLBACK_CLOCK_MARGIN_SECONDS = 0, 0
    callbacks.collect()  # what the fixture's deliveries already owe
    slow, quick = Delivery.objects.filter(dispatch=sent, acknowledged_at__isnull=True).order_by("pk")[:2]
    written, commit = threading.Event(), threading.Event()

    def long_transaction():  # a worker whose transaction stays open after writing its event (a slow commit)
        with transaction.atomic():
            assert acknowledgement.record(slow.pk, "203.0.113.9")
            written.set()
            commit.wait(30)
        connections.close_all()

    worker = threading.Thread(target=long_transaction)
    worker.start()
    assert written.wait(30)
    acknowledgement.record(quick.pk, "203.0.113.10")  # a later event (a higher id), committed at once
    try:
        assert callbacks.collect() == 0  # the open transaction's event may come: the cursor must not pass it
    finally:
        commit.set()
        worker.join()
    assert callbacks.collect() == 2
    called = [c.payload["delivery_id"] for c in Callback.objects.filter(payload__type="acknowledgement")]
    assert sorted(called) == sorted([slow.pk, quick.pk])
