"""Login lockout with a limit per user name and address together, per address, and per user name.

django-axes counts failures for each of AXES_LOCKOUT_PARAMETERS and compares the largest count with one limit.
Spraying one password over every user from one address, or one user's password from many addresses, must be
slowed as well as guessing one user's password from one address, but with limits of their own (an office
behind one shared address makes typos too): AXES_FAILURE_LIMITS holds one limit per lockout parameter. A
successful login forgives only that user's failures from that address, never the address's or the user's
failures as a whole (else an attacker with one account could clear their address by logging in).
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum


class LockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        """Return the failures scaled to AXES_FAILURE_LIMIT: it is reached when any parameter reaches its limit."""
        base = settings.AXES_FAILURE_LIMIT
        scaled = [
            count * base // limit
            for count, limit in zip(self.counts(request, credentials), settings.AXES_FAILURE_LIMITS, strict=True)
        ]
        return max(scaled, default=0)

    def counts(self, request, credentials: dict | None = None) -> list[int]:
        """Return the failures within the cool-off time for each lockout parameter, in their order."""
        return [
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """Forget only the failures of this user name from this address (the first lockout parameter)."""
        attempts = self.filter_user_attempts(request, credentials)[0]
        count, _ = attempts.delete()
        return count
