"""Template filters for lengths of time: `{{ cooloff|minutes }}`."""

from __future__ import annotations

import datetime
import math

from django import template

register = template.Library()


@register.filter
def minutes(value: datetime.timedelta) -> int:
    """Return the whole number of minutes of a duration, rounded up (a lockout of 30 s reads "1")."""
    return math.ceil(value.total_seconds() / 60)
