"""The second step of the staff login, the enrolment of devices, and the passkey ceremony endpoints.

The codes are checked by django-otp (`match_token`: the authenticator app, then the one-time backup codes), the
passkeys by django-otp-webauthn; `config.second_factor` decides who must pass and stamps when they did. A wrong code
or a failed passkey counts as a failed login for django-axes, and a locked-out user is logged out.
"""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_credentials, get_lockout_response
from django import forms
from django.contrib import admin, auth
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn import exceptions as webauthn_errors
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.views import CompleteCredentialAuthenticationView

from config import second_factor
from notices.models import AuditEvent

BACKUP_CODES = 10


class CodeForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code"), max_length=16, widget=forms.TextInput(attrs={"autocomplete": "one-time-code"})
    )


def next_url(request: HttpRequest) -> str:
    """Return the safe `next` of the request, else the admin's index."""
    wanted = request.POST.get("next") or request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(wanted, {request.get_host()}, require_https=request.is_secure()):
        return wanted
    return reverse("admin:index")


def credentials_of(request: HttpRequest) -> dict:
    return get_credentials(request.user.get_username())


def refuse(request: HttpRequest) -> HttpResponse | None:
    """Count a failed second factor for django-axes; if that locks the user out, log out and say so."""
    user_login_failed.send(sender=__name__, credentials=credentials_of(request), request=request)
    return locked_out(request)


def locked_out(request: HttpRequest) -> HttpResponse | None:
    credentials = credentials_of(request)
    if not AxesProxyHandler.is_locked(request, credentials):
        return None
    auth.logout(request)
    return get_lockout_response(request, credentials=credentials)


@never_cache
@admin.site.admin_view
def second_step(request: HttpRequest) -> HttpResponse:
    """Ask for a code or a passkey; on success stamp the session and go on to `next`."""
    user = request.user
    if not second_factor.has_device(user):
        return HttpResponseRedirect(f"{reverse('second_factor_devices')}?{urlencode({'next': next_url(request)})}")
    if response := locked_out(request):
        return response
    if request.method == "GET" and second_factor.is_fresh(request):
        return HttpResponseRedirect(next_url(request))  # passed already (a passkey, another tab)
    form = CodeForm(request.POST or None)
    if form.is_valid():
        device = match_token(user, form.cleaned_data["token"].replace(" ", ""))
        if device is not None:
            second_factor.login(request, device)
            return HttpResponseRedirect(next_url(request))
        if response := refuse(request):
            return response
        form.add_error("token", _("The code is wrong or has expired."))
    context = {
        **admin.site.each_context(request),
        "title": _("Second factor"),
        "form": form,
        "next": next_url(request),
        "has_passkey": WebAuthnCredential.objects.filter(user=user, confirmed=True).exists(),
    }
    return TemplateResponse(request, "admin/second_factor/step.html", context)


@never_cache
@admin.site.admin_view
def devices(request: HttpRequest) -> HttpResponse:
    """List the user's devices and enrol an authenticator app (QR code) or a passkey.

    A user with a device must have passed it in this session first; a user with none enrols the first one.
    """
    user = request.user
    if second_factor.has_device(user) and not second_factor.is_verified(user):
        return HttpResponseRedirect(second_factor.step_url(request.get_full_path()))
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
        user=user, name=_("Authenticator app"), confirmed=False
    )
    form = CodeForm(request.POST or None)
    codes: list[str] = []
    if form.is_valid():
        if pending.verify_token(form.cleaned_data["token"].replace(" ", "")):
            pending.confirmed = True
            pending.save()
            codes = new_backup_codes(user)
            second_factor.login(request, pending)
            AuditEvent.objects.record(user, "second_factor_enrolled", user, {"device": "totp"}, request=request)
            pending = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
            form = CodeForm()
        elif response := refuse(request):
            return response
        else:
            form.add_error("token", _("The code is wrong or has expired."))
    context = {
        **admin.site.each_context(request),
        "title": _("Second-factor devices"),
        "form": form,
        "codes": codes,
        "qr": mark_safe(segno.make(pending.config_url, error="m").svg_inline(scale=4)),  # noqa: S308 (our own SVG)
        "secret": pending.key,
        "apps": TOTPDevice.objects.filter(user=user, confirmed=True),
        "passkeys": WebAuthnCredential.objects.filter(user=user, confirmed=True),
        "backup_left": StaticToken.objects.filter(device__user=user, device__confirmed=True).count(),
        "next": next_url(request),
        "required": second_factor.is_required(user),
    }
    return TemplateResponse(request, "admin/second_factor/devices.html", context)


def new_backup_codes(user) -> list[str]:
    """Replace the user's backup codes with BACKUP_CODES new ones and return them (shown once)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


class PasskeyAuthentication(CompleteCredentialAuthenticationView):
    """django-otp-webauthn's passkey check as the second step: stamps the session; a failure counts for axes."""

    def post(self, *args, **kwargs):
        if locked_out(self.request) is not None:
            raise webauthn_errors.NotAuthenticated()
        try:
            return super().post(*args, **kwargs)
        except webauthn_errors.OTPWebAuthnApiError:
            if refuse(self.request) is not None:
                raise webauthn_errors.NotAuthenticated() from None
            raise

    def complete_auth(self, device) -> None:
        second_factor.login(self.request, device)

    def get_success_url(self):
        return self.get_redirect_url() or reverse("admin:index")
