"""The delivery state machine (notices/models/delivery.py): conditional transitions, claims, recording sent rows."""

from __future__ import annotations

import threading

import pytest
from django.db import connections, transaction
from django.utils import timezone

from notices.models import Delivery
from tests.notices.delivery_fixtures import S, event_types, ids_of


@pytest.mark.django_db
def test_a_transition_from_the_wrong_status_changes_nothing_and_writes_no_event(issue_to):
    dispatch = issue_to(1)
    (pk,) = ids_of(dispatch)

    assert not Delivery.objects.transition(pk, S.SENT, from_=[S.SENDING])
    assert Delivery.objects.transition(pk, S.CANCELLED, "operator")
    assert not Delivery.objects.transition(pk, S.CANCELLED, "operator again")

    assert event_types(Delivery.objects.get(pk=pk)) == ["queued", "cancelled"]


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
