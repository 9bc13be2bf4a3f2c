"""The audit receivers of system events (notices/receivers.py)."""

from __future__ import annotations

from notices import signals
from notices.models import AuditEvent, Dispatch


def test_sending_signals_are_audited_as_system_events(sent):
    signals.sending_started.send(sender=Dispatch, dispatch=sent)
    signals.sending_finished.send(sender=Dispatch, dispatch=sent)
    events = AuditEvent.objects.for_object(sent).order_by("seq")
    assert [(e.action, e.actor_id) for e in events] == [("sending_started", None), ("sending_finished", None)]
    assert events[1].details == {"status": "sent"}
