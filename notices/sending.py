"""Transitional aliases for callers outside the engine, until the merge wires `notices.issuing` to the fan-out.

Remove at the merge: `Dispatch.issue` (to be `notices.issuing.issue`) calls `start`; one test module imports the
other two names. The engine itself lives in fanout, sendloop, sweeper, recall and the Delivery/Dispatch models.
"""

from __future__ import annotations

from notices import fanout
from notices.fanout import create_deliveries
from notices.models import Dispatch
from notices.transports import TransportError as SendError


def start(dispatch_id: int) -> None:
    """Queue the fan-out of an issued dispatch (see `notices.fanout.start`)."""
    fanout.start(Dispatch.objects.get(pk=dispatch_id))


__all__ = ["SendError", "create_deliveries", "start"]
