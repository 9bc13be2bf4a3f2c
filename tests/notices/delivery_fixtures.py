"""Fixtures and helpers of the delivery tests: an issued dispatch with its deliveries written (no PDF rendered)."""

from __future__ import annotations

import csv
import io
import threading

import pytest
from django.db import connections
from django.utils import timezone

from config.celery import app as celery_app
from notices import fanout
from notices.models import Delivery, DeliveryEvent, DeliveryStatus, Dispatch, DispatchStatus
from notices.ratelimit import TokenBucket
from recipients.folding import fold
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


def queued_tasks(queue: str) -> list[tuple[str, list]]:
    """Take every task waiting in a broker queue off it; return each one's name and arguments."""
    found = []
    with celery_app.connection_for_read() as connection:
        channel = connection.default_channel
        while (message := channel.basic_get(queue=queue, no_ack=True)) is not None:
            args, _, _ = message.decode()
            found.append((message.headers["task"], list(args)))
    return found


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


@pytest.fixture
def sent(draft):
    """An issued, sent dispatch with three deliveries: one acknowledged, one with provider events."""
    group = make_group(3)
    draft.groups.add(group)
    Dispatch.objects.filter(pk=draft.pk).update(
        status=DispatchStatus.SENT, number=5, year=2026, series="regular", issued_at=timezone.now(),
        subject="=HYPERLINK(\"http://evil\")", search_subject=fold("=HYPERLINK(\"http://evil\")"), pdf_sha256="ab" * 32,
    )  # fmt: skip
    draft.refresh_from_db()
    now = timezone.now()
    for i, org in enumerate(group.members.order_by("name")):
        Delivery.objects.create(
            dispatch=draft, organization=org, organization_name=org.name, address=f"office{i:03d}@bhxh-hanoi.example.vn",
            status="delivered", sent_at=now, provider_message_id=f"<msg-{i}@mail>",
            acknowledged_at=now if i == 0 else None,
        )  # fmt: skip
    first = Delivery.objects.get(address="office001@bhxh-hanoi.example.vn")
    DeliveryEvent.objects.create(delivery=first, type="delivered", detail="250 OK", provider_event_id="evt-1")
    return draft


def read_csv(response) -> list[list[str]]:
    """Return the rows of a streamed CSV export, as a spreadsheet reads them."""
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def many_deliveries(dispatch: Dispatch, count: int) -> None:
    """Write `count` sent deliveries of the dispatch in one statement."""
    Delivery.objects.bulk_create(
        Delivery(dispatch=dispatch, organization_name=f"Đơn vị {i}", address=f"u{i:05d}@example.vn", status="sent")
        for i in range(count)
    )
