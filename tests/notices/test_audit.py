"""The audit trail's web side (notices/audit.py): events carry the request's IP address."""

from __future__ import annotations

import pytest

from notices import audit

pytestmark = pytest.mark.django_db


def test_the_ip_address_of_the_request_is_recorded(rf, clerk):
    request = rf.get("/", REMOTE_ADDR="203.0.113.7")
    event = audit.record(clerk, "export", None, {"what": "register"}, request=request)
    event.refresh_from_db()
    assert event.ip == "203.0.113.7"
    assert event.compute_hash() == event.hash


def test_an_event_recorded_while_a_request_is_served_carries_its_address_and_none_after(rf, clerk):
    from notices.models import AuditEvent

    def view(request):
        return AuditEvent.objects.record(clerk, "export", None, {"what": "register"})

    during = audit.CurrentRequestMiddleware(view)(rf.get("/", REMOTE_ADDR="198.51.100.23"))
    after = audit.record(clerk, "export", None, {"what": "register"})
    assert (during.ip, after.ip) == ("198.51.100.23", None)
