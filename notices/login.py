"""Login security: lockout after repeated failures (django-axes) and audit events for logins and logouts."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend

from config import second_factor
from notices.models import AuditEvent


class LockoutBackend(AxesStandaloneBackend):
    """Refuse logins of a locked-out user or address; let through authentications that carry no request.

    Web logins always carry the request. Scripts and test clients (`Client.login`) authenticate without one;
    django-axes would raise for those, so they skip the lockout check instead.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def on_login(sender, request, user, **kwargs) -> None:
    AuditEvent.objects.record(user, "login", user, request=request)
    if request is not None and not second_factor.must_pass(user):
        second_factor.forgive_failures(request, user)  # else only passing the second factor forgives


def on_logout(sender, request, user, **kwargs) -> None:
    AuditEvent.objects.record(user, "logout", user, request=request)


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Never the password: only the name that was tried.
    AuditEvent.objects.record(
        None, "login_failed", None, {"username": str(credentials.get("username", ""))[:150]}, request=request
    )
