"""Signals that let one concern react to another's events without importing it (e.g. the audit trail)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `dispatch=` when the fan-out of an issued dispatch begins.
sending_started = Signal()
# Sent with `dispatch=` when no delivery of the dispatch is waiting any more (sent, partly failed or cancelled).
sending_finished = Signal()
