"""Real second-factor logins for the tests: a confirmed django-otp device and django-otp's login, no patch.

`VerifiedClient.force_login` logs in as Django's test client does, then verifies the session with the user's
authenticator app (a confirmed TOTPDevice) exactly as the second step does (`config.second_factor.login`, which is
`django_otp.login` plus the step-up stamp). Browser tests type a real one-time backup code (`backup_code`).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from config import second_factor

STEP, DEVICES = "/admin/xac-thuc-hai-buoc/", "/admin/xac-thuc-hai-buoc/thiet-bi/"


def authenticator(user) -> TOTPDevice:
    """Return the user's confirmed authenticator app, enrolling one first if there is none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="tests", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    """Return the code the user's authenticator app shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def backup_code(user) -> str:
    """Return a fresh one-time backup code of the user (a real StaticToken of a confirmed StaticDevice)."""
    device, _ = StaticDevice.objects.get_or_create(user=user, name="backup", defaults={"confirmed": True})
    token = StaticToken.random_token()
    device.token_set.create(token=token)
    return token


def verify_session(client: Client, user) -> None:
    """Mark the client's session as verified now by the user's authenticator app."""
    request = HttpRequest()
    request.session = client.session
    request.user = user
    second_factor.login(request, authenticator(user))
    request.session.save()


class VerifiedClient(Client):
    """Django's test client whose `force_login` also passes the second factor, as staff do after the password."""

    def force_login(self, user, backend=None) -> None:
        super().force_login(user, backend)
        verify_session(self, user)


def pass_second_step(page, username: str) -> None:
    """In Playwright, after the password: type a backup code on the second step if the page asks for one.

    A user who had no device yet was sent to enrol: the backup code enrols them, and the second step is asked.
    """
    page.wait_for_url(lambda url: "/admin/login/" not in url)
    if STEP not in page.url:
        return
    code = backup_code(get_user_model().objects.get(username=username))
    if DEVICES in page.url:
        page.goto(page.url.replace(DEVICES, STEP))
    page.fill("#id_token", code)
    with page.expect_navigation():
        page.click("#second-factor-form input[type=submit]")
