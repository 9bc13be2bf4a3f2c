"""The second factor of staff logins, and the step-up that sensitive actions ask for.

django-otp checks the codes (TOTP apps and one-time backup codes) and django-otp-webauthn the passkeys; this module
decides who must pass one (the roles in OTP_REQUIRED_ROLES, and anyone who enrolled a device), remembers when the
session last passed one, and sends a request back to the second step when that is older than OTP_STEP_UP_SECONDS.
`require_recent_second_factor` is the one guard for sensitive views and admin methods.
"""

from __future__ import annotations

import functools
import time
from urllib.parse import urlencode

import django_otp
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp_webauthn.helpers import WebAuthnHelper

VERIFIED_AT = "second_factor_verified_at"  # session key: when this session last passed a second factor
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# What a user who logged in with a password but not yet the second factor may still open.
OPEN_BEFORE_SECOND_FACTOR = ("/admin/xac-thuc-hai-buoc/", "/admin/logout/", "/i18n/", "/webauthn/", "/healthz")


def is_required(user) -> bool:
    """Return whether the user's roles (or being a superuser) make a second factor compulsory."""
    return user.is_superuser or user.groups.filter(name__in=settings.OTP_REQUIRED_ROLES).exists()


def has_device(user) -> bool:
    """Return whether the user has a confirmed device (authenticator app, backup codes or passkey)."""
    return django_otp.user_has_device(user, confirmed=True)


def must_pass(user) -> bool:
    """Return whether a logged-in user must pass a second factor: required by role, or chosen by enrolling."""
    return user.is_authenticated and (is_required(user) or has_device(user))


def is_verified(user) -> bool:
    """Return whether this session's user passed a second factor (django-otp's OTPMiddleware adds `is_verified`)."""
    return bool(getattr(user, "is_verified", lambda: False)())


def login(request: HttpRequest, device) -> None:
    """Mark the session as verified by `device` now (django-otp's login) and forgive the login failures."""
    django_otp.login(request, device)
    request.session[VERIFIED_AT] = time.time()
    forgive_failures(request, request.user)


def forgive_failures(request: HttpRequest, user) -> None:
    """Forget this user's failed logins from this address: called once the whole login succeeded."""
    if hasattr(request, "axes_ip_address"):  # a real request through AxesMiddleware, not a test client's login
        AxesProxyHandler.get_implementation().reset_user_attempts(
            request, credentials=get_credentials(user.get_username())
        )


def is_fresh(request: HttpRequest) -> bool:
    """Return whether the session passed a second factor within the last OTP_STEP_UP_SECONDS."""
    verified_at = request.session.get(VERIFIED_AT)
    if verified_at is None or not is_verified(request.user):
        return False
    return time.time() - verified_at <= settings.OTP_STEP_UP_SECONDS


def step_url(next_url: str) -> str:
    """Return the second step's URL, coming back to `next_url` once passed."""
    return f"{reverse('second_factor')}?{urlencode({'next': next_url})}"


def ask_again(request: HttpRequest, back_to: str = "") -> HttpResponseRedirect:
    """Send the user to the second step, with a word on why, and back to `back_to` (default: this page) afterwards."""
    messages.warning(request, _("This action needs a recent second factor: confirm it is you, then try again."))
    return HttpResponseRedirect(step_url(back_to or request.get_full_path()))


def require_recent_second_factor(view):
    """Decorate a view or a ModelAdmin method: a changing request (POST, ...) needs a recent second factor.

    Reading (GET) is let through, so the form or confirmation page shows; submitting it with a stale second factor
    sends the user to the second step, which returns to the page to submit again.
    """

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        request = next(arg for arg in args if isinstance(arg, HttpRequest))
        if request.method in SAFE_METHODS or is_fresh(request):
            return view(*args, **kwargs)
        return ask_again(request)

    return guarded


class SecondFactorMiddleware:
    """Send a user who passed the password but not the second factor they must pass to the second step."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        user = request.user
        if (
            user.is_authenticated
            and not is_verified(user)
            and not request.path.startswith((*OPEN_BEFORE_SECOND_FACTOR, settings.STATIC_URL or "/static/"))
            and must_pass(user)
        ):
            return HttpResponseRedirect(step_url(request.get_full_path()))
        return self.get_response(request)


class PasskeyHelper(WebAuthnHelper):
    """django-otp-webauthn's helper, allowing http://localhost on any port when the RP ID is localhost."""

    def get_allowed_origins(self) -> list[str]:
        origins = list(settings.OTP_WEBAUTHN_ALLOWED_ORIGINS)
        if self.get_relying_party_domain() == "localhost" and self.request.get_host().split(":")[0] == "localhost":
            origins.append(f"{self.request.scheme}://{self.request.get_host()}")
        return origins


def remove_devices(user) -> int:
    """Delete every second-factor device of `user` (apps, backup codes, passkeys); return how many."""
    devices = list(django_otp.devices_for_user(user, confirmed=None))
    for device in devices:
        device.delete()
    return len(devices)
