"""What happened to a delivery, in order (notices/models/events.py): one statement writes an event for many."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notices.models import DeliveryEvent
from notices.models.events import record_events
from tests.notices.delivery_fixtures import event_types, ids_of


@pytest.mark.django_db
def test_the_same_event_is_written_for_every_delivery_in_one_statement(issue_to):
    dispatch = issue_to(3)
    ids = ids_of(dispatch)
    with CaptureQueriesContext(connection) as queries:
        record_events(ids[:2], "cancelled", "operator")
    assert len(queries.captured_queries) == 1
    assert [event_types(d)[-1] for d in dispatch.deliveries.order_by("pk")] == ["cancelled", "cancelled", "queued"]
    assert set(DeliveryEvent.objects.filter(type="cancelled").values_list("detail", flat=True)) == {"operator"}


@pytest.mark.django_db
def test_no_delivery_writes_nothing():
    with CaptureQueriesContext(connection) as queries:
        record_events([], "cancelled")
    assert queries.captured_queries == []
