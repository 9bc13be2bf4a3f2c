"""The second factor in real Chromium: the code of an authenticator app, then a passkey registered and used with
Chromium's own virtual authenticator (the DevTools WebAuthn domain), all in Vietnamese."""

from __future__ import annotations

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from tests.conftest import wait_until
from tests.second_factor import STEP, authenticator, current_code

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "pw-for-tests-only"
VIRTUAL_AUTHENTICATOR = {
    "options": {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
                "isUserVerified": True, "automaticPresenceSimulation": True}
}  # fmt: skip


def password(page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: STEP in url)


def test_a_clerk_passes_a_code_registers_a_passkey_and_then_signs_in_with_it(browser, live_server, clerk, settings):
    settings.LANGUAGE_CODE = "vi"  # the live server speaks the product's language
    device = authenticator(clerk)
    base = live_server.url.replace("127.0.0.1", "localhost")  # a passkey's relying party is a domain, not an address
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", VIRTUAL_AUTHENTICATOR)

    password(page, base, "vanthu")
    assert "Nhập mã sáu chữ số" in page.inner_text("#content-main")
    page.fill("#id_token", current_code(device))
    page.click("#second-factor-form input[type=submit]")
    page.wait_for_selector("#user-tools")
    assert STEP not in page.url

    page.goto(f"{base}/admin/xac-thuc-hai-buoc/thiet-bi/")
    page.locator("#passkey-register-button").wait_for()
    page.click("#passkey-register-button")
    wait_until(lambda: WebAuthnCredential.objects.filter(user=clerk, confirmed=True).exists(), timeout=30)
    page.locator("#passkey-register-status-message", has_text="Đăng ký thành công!").wait_for()

    page.click("#logout-form button")
    page.wait_for_load_state()
    password(page, base, "vanthu")
    button = page.locator("#passkey-verification-button")
    button.wait_for()
    assert button.inner_text() == "Xác minh bằng khóa truy cập", "django-otp-webauthn's script speaks Vietnamese"
    button.click()
    page.wait_for_url(f"{base}/admin/")
    page.wait_for_selector("#user-tools")
    assert page.goto(f"{base}/admin/notices/dispatch/").status == 200
    context.close()
