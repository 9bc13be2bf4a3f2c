"""Fixtures of the delivery tests: an issued dispatch with its deliveries written, without rendering a PDF."""

from __future__ import annotations

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from notices import fanout
from notices.models import Dispatch, DispatchStatus
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
