"""Fixtures and helpers of the delivery tests: an issued dispatch with its deliveries written (no PDF rendered)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.utils import timezone

from config.celery import app as celery_app
from notices import fanout
from notices.models import Delivery, DeliveryStatus, Dispatch, DispatchStatus
from notices.ratelimit import TokenBucket
from tests.conftest import make_group

PDF = b"%PDF-1.4\n% a stand-in for the rendered dispatch\n%%EOF\n"


@pytest.fixture
def fresh_broker(settings):
    """Empty the test Redis queues and the rate limiter before and after the test."""
    settings.SEND_RATE_PER_SECOND = 1000
    settings.SEND_RATE_BURST = 1000
    TokenBucket("smtp").reset()
    celery_app.control.purge()
    yield
    celery_app.control.purge()
    TokenBucket("smtp").reset()


@pytest.fixture
def issue_to(draft, clerk, fresh_broker):
    """Return a function that issues the draft to `size` offices and writes their deliveries (no tasks run)."""

    def issue(size: int = 3, **changes) -> Dispatch:
        draft.groups.add(make_group(size))
        for field, value in changes.items():
            setattr(draft, field, value)
        draft.status, draft.number, draft.year, draft.series = DispatchStatus.ISSUED, 7, 2026, "regular"
        draft.issued_at, draft.issued_by = timezone.now(), clerk
        draft.store_pdf(PDF)
        draft.save()
        fanout.begin_sending(draft)
        fanout.write_page(draft, "", None)
        fanout.finish_fan_out(draft)
        return draft

    return issue


def settled(dispatch: Dispatch) -> bool:
    """Return whether the dispatch has finished sending, whatever the outcome."""
    dispatch.refresh_from_db()
    return dispatch.status in (DispatchStatus.SENT, DispatchStatus.PARTLY_FAILED)


S = DeliveryStatus


def ids_of(dispatch: Dispatch) -> list[int]:
    """Return the ids of the dispatch's deliveries, in the order they were written."""
    return list(dispatch.deliveries.order_by("pk").values_list("pk", flat=True))


def event_types(delivery: Delivery) -> list[str]:
    """Return the types of the delivery's events, oldest first."""
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
