"""The second step of the login (notices/views/second_factor.py, config/second_factor.py): codes, enrolment,
lockout, step-up before each guarded action, and the administrator's audited reset.

These tests log in as staff do, with Django's plain test client: the password form, then the code.
"""

from __future__ import annotations

import re
import time

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from api.models import ApiKey
from config.second_factor import VERIFIED_AT
from notices import issuing, roles
from notices.models import AuditEvent, DispatchStatus
from recipients.models import Suppression, SuppressionReason
from tests.conftest import make_user
from tests.notices.correction_fixtures import NEW, answered
from tests.second_factor import authenticator, backup_code, current_code

pytestmark = pytest.mark.django_db
LOGIN, STEP, DEVICES = "/admin/login/", "/admin/xac-thuc-hai-buoc/", "/admin/xac-thuc-hai-buoc/thiet-bi/"
PASSWORD = "pw-for-tests-only"


@pytest.fixture(autouse=True)
def _no_device_throttling(settings):
    """Switch off django-otp's own pause after a wrong code (1 s, doubling), so a right code can follow at once."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def password_step(client: Client, username: str, address: str = "192.0.2.10") -> int:
    response = client.post(LOGIN, {"username": username, "password": PASSWORD}, REMOTE_ADDR=address)
    return response.status_code


def code_step(client: Client, token: str, next_url: str = "/admin/", address: str = "192.0.2.10"):
    return client.post(STEP, {"token": token, "next": next_url}, REMOTE_ADDR=address)


def log_in(client: Client, user) -> None:
    """Log in with the password and a backup code, as a person would."""
    assert password_step(client, user.username) == 302
    assert code_step(client, backup_code(user)).status_code == 302


def make_stale(client: Client) -> None:
    """Age the session's last second factor past OTP_STEP_UP_SECONDS (as if it was passed 11 minutes ago)."""
    session = client.session
    session[VERIFIED_AT] = time.time() - 660
    session.save()


def asks_again(response, path: str) -> bool:
    return (
        response.status_code == 302
        and response["Location"].startswith(f"{STEP}?next=")
        and path in response["Location"].replace("%2F", "/")
    )


# --- The second step ---------------------------------------------------------------------------------------------
def test_a_clerk_passes_the_password_then_the_code_of_their_app(clerk):
    device, client = authenticator(clerk), Client()
    assert password_step(client, "vanthu") == 302
    response = client.get("/admin/notices/dispatch/")
    assert response.status_code == 302 and response["Location"].startswith(STEP)
    wrong = code_step(client, "000000" if current_code(device) != "000000" else "111111")
    assert wrong.status_code == 200 and "The code is wrong or has expired." in wrong.content.decode()
    assert client.get("/admin/").status_code == 302
    assert code_step(client, current_code(device), "/admin/notices/dispatch/")["Location"] == "/admin/notices/dispatch/"
    assert client.get("/admin/notices/dispatch/").status_code == 200


def test_django_otp_pauses_a_device_after_a_wrong_code(clerk, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    device, client = authenticator(clerk), Client()
    password_step(client, "vanthu")
    code_step(client, "000000" if current_code(device) != "000000" else "111111")
    assert code_step(client, current_code(device)).status_code == 200, "refused within the pause, even when right"


def test_a_backup_code_works_once(clerk):
    authenticator(clerk)
    code = backup_code(clerk)
    first, second = Client(), Client()
    password_step(first, "vanthu")
    assert code_step(first, code).status_code == 302
    password_step(second, "vanthu")
    assert code_step(second, code).status_code == 200
    assert second.get("/admin/").status_code == 302


def test_a_required_role_without_a_device_enrols_by_qr_code_and_receives_backup_codes(approver):
    client = Client()
    password_step(client, "pheduyet")
    assert client.get("/admin/")["Location"].startswith(STEP)
    assert client.get(STEP)["Location"].startswith(DEVICES)
    page = client.get(DEVICES).content.decode()
    assert "<svg" in page and 'id="totp-secret"' in page
    pending = TOTPDevice.objects.get(user=approver, confirmed=False)
    enrolled = client.post(DEVICES, {"token": current_code(pending), "next": "/admin/"}).content.decode()
    codes = re.findall(r"<li><code>(\w+)</code></li>", enrolled)
    assert len(codes) == 10 and set(codes) == set(StaticToken.objects.values_list("token", flat=True))
    assert TOTPDevice.objects.get(pk=pending.pk).confirmed
    assert client.get("/admin/").status_code == 200
    assert AuditEvent.objects.filter(action="second_factor_enrolled", actor=approver).exists()


def test_others_need_no_second_factor_until_they_enrol_one(drafter):
    client = Client()
    password_step(client, "soanthao")
    assert client.get("/admin/").status_code == 200
    authenticator(drafter)
    client.post(reverse("admin:logout"))
    password_step(client, "soanthao")
    assert client.get("/admin/")["Location"].startswith(STEP)


def test_a_user_with_a_device_cannot_enrol_another_before_passing_it(clerk):
    authenticator(clerk)
    client = Client()
    password_step(client, "vanthu")
    assert client.get(DEVICES)["Location"].startswith(STEP)


def test_the_required_roles_are_a_setting(drafter, settings):
    settings.OTP_REQUIRED_ROLES = [roles.DRAFTER]
    client = Client()
    password_step(client, "soanthao")
    assert client.get("/admin/")["Location"].startswith(STEP)


# --- Lockout -----------------------------------------------------------------------------------------------------
def test_wrong_codes_lock_the_user_out_and_a_correct_password_does_not_forgive_them(clerk, settings):
    device, client = authenticator(clerk), Client()
    wrong = "000000" if current_code(device) != "000000" else "111111"
    password_step(client, "vanthu")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert code_step(client, wrong).status_code == 200
    client.post(reverse("admin:logout"))
    assert password_step(client, "vanthu") == 302, "the password is right: the login goes on to the code"
    response = code_step(client, wrong)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session, "the locked-out user is logged out"
    assert password_step(client, "vanthu") == 429
    # every wrong code, and the refused password after the lockout, is audited
    assert AuditEvent.objects.filter(action="login_failed").count() == settings.AXES_FAILURE_LIMIT + 1


def test_a_correct_code_forgives_the_failures_of_this_login(clerk, settings):
    device, client = authenticator(clerk), Client()
    wrong = "000000" if current_code(device) != "000000" else "111111"
    password_step(client, "vanthu")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        code_step(client, wrong)
    assert AccessAttempt.objects.filter(username="vanthu").exists()
    assert code_step(client, current_code(device)).status_code == 302
    assert not AccessAttempt.objects.filter(username="vanthu", ip_address="192.0.2.10").exists()


def test_a_password_forgives_the_failures_of_a_user_who_needs_no_second_factor(drafter):
    client = Client()
    client.post(LOGIN, {"username": "soanthao", "password": "sai"}, REMOTE_ADDR="192.0.2.10")
    assert AccessAttempt.objects.filter(username="soanthao").exists()
    assert password_step(client, "soanthao") == 302
    assert not AccessAttempt.objects.filter(username="soanthao").exists()


def test_failed_passkeys_count_for_the_lockout(clerk, settings):
    authenticator(clerk)
    client = Client()
    password_step(client, "vanthu")
    begin, complete = (
        reverse("otp_webauthn:credential-authentication-begin"),
        reverse("otp_webauthn:credential-authentication-complete"),
    )
    forged = {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert client.post(begin, content_type="application/json", REMOTE_ADDR="192.0.2.10").status_code == 200
        response = client.post(complete, forged, content_type="application/json", REMOTE_ADDR="192.0.2.10")
        assert 400 <= response.status_code < 500
    assert "_auth_user_id" not in client.session
    assert password_step(client, "vanthu") == 429


# --- Step-up -----------------------------------------------------------------------------------------------------
def workflow(dispatch, action: str) -> str:
    return reverse("admin:notices_dispatch_workflow", args=[dispatch.pk, action])


def pass_again(client: Client, user, next_url: str) -> None:
    assert code_step(client, backup_code(user), next_url)["Location"] == next_url


def test_issuing_asks_again_for_a_stale_second_factor_and_a_fresh_one_passes(approved, clerk):
    client = Client()
    log_in(client, clerk)
    make_stale(client)
    url = workflow(approved, "issue")
    assert client.get(url).status_code == 200, "the confirmation page still shows"
    assert asks_again(client.post(url), url)
    approved.refresh_from_db()
    assert approved.status == DispatchStatus.APPROVED and approved.number is None
    pass_again(client, clerk, url)
    client.post(url)
    approved.refresh_from_db()
    assert approved.status == DispatchStatus.ISSUED


def test_scheduling_asks_again_for_a_stale_second_factor(approved, clerk):
    client = Client()
    log_in(client, clerk)
    make_stale(client)
    url, when = workflow(approved, "schedule"), {"scheduled_for": "2030-03-05T07:00"}
    assert asks_again(client.post(url, when), url)
    approved.refresh_from_db()
    assert approved.scheduled_for is None
    pass_again(client, clerk, url)
    client.post(url, when)
    approved.refresh_from_db()
    assert approved.status == DispatchStatus.SCHEDULED


def test_recalling_asks_again_for_a_stale_second_factor(approved, clerk):
    issuing.issue(approved, clerk)
    client = Client()
    log_in(client, clerk)
    make_stale(client)
    url, reason = workflow(approved, "recall"), {"reason": "Ban hành nhầm."}
    assert asks_again(client.post(url, reason), url)
    approved.refresh_from_db()
    assert approved.status == DispatchStatus.ISSUED
    pass_again(client, clerk, url)
    client.post(url, reason)
    approved.refresh_from_db()
    assert approved.status == DispatchStatus.RECALLED


def test_lifting_a_suppression_asks_again_for_a_stale_second_factor(clerk):
    suppression = Suppression.objects.create(address="hopthu@example.vn", reason=SuppressionReason.HARD_BOUNCE)
    client = Client()
    log_in(client, clerk)
    make_stale(client)
    url = reverse("admin:recipients_suppression_changelist")
    lift = {"action": "lift_suppressions", "_selected_action": [suppression.pk], "lift": "1", "reason": "Đã sửa."}
    assert asks_again(client.post(url, lift), url)
    suppression.refresh_from_db()
    assert suppression.lifted_at is None
    pass_again(client, clerk, url)
    client.post(url, lift)
    suppression.refresh_from_db()
    assert suppression.lifted_at is not None


def test_changing_a_users_roles_asks_again_for_a_stale_second_factor(drafter):
    administrator = make_user("quantri", roles.ADMINISTRATOR)
    client = Client()
    log_in(client, administrator)
    make_stale(client)
    url = reverse("admin:auth_user_change", args=[drafter.pk])
    form = client.get(url)
    assert form.status_code == 200
    clerks = Group.objects.get(name=roles.CLERK)
    data = {"username": "soanthao", "is_active": "on", "is_staff": "on", "groups": [clerks.pk],
            "last_login_0": "", "last_login_1": "", "date_joined_0": "2026-01-05", "date_joined_1": "08:00:00"}  # fmt: skip
    assert asks_again(client.post(url, data), url)
    assert list(drafter.groups.values_list("name", flat=True)) == [roles.DRAFTER]
    pass_again(client, administrator, url)
    assert client.post(url, data).status_code == 302
    assert list(drafter.groups.values_list("name", flat=True)) == [roles.CLERK]


def test_changing_a_roles_permissions_asks_again_for_a_stale_second_factor():
    administrator = make_user("quantri", roles.ADMINISTRATOR)
    client = Client()
    log_in(client, administrator)
    make_stale(client)
    role = Group.objects.get(name=roles.DRAFTER)
    url = reverse("admin:auth_group_change", args=[role.pk])
    assert asks_again(client.post(url, {"name": role.name, "permissions": []}), url)
    assert role.permissions.exists()


def test_creating_or_changing_an_api_key_asks_again_for_a_stale_second_factor(drafter):
    administrator = make_user("quantri", roles.ADMINISTRATOR)
    client = Client()
    log_in(client, administrator)
    make_stale(client)
    url = reverse("admin:api_apikey_add")
    data = {"name": "Hệ thống thu BHXH", "user": drafter.pk, "scopes": ["drafts", "read"], "allowed_ips": "",
            "rate_per_second": "", "callback_url": ""}  # fmt: skip
    assert client.get(url).status_code == 200  # the form shows; only submitting it asks
    assert asks_again(client.post(url, data), url)
    assert not ApiKey.objects.exists()
    pass_again(client, administrator, url)
    assert client.post(url, data).status_code == 200  # the page that shows the new key once
    key = ApiKey.objects.get()
    make_stale(client)
    change = reverse("admin:api_apikey_change", args=[key.pk])
    assert asks_again(client.post(change, {**data, "scopes": ["drafts", "read", "issue"]}), change)
    key.refresh_from_db()
    assert key.scopes == ["drafts", "read"]


def test_approving_an_address_correction_asks_again_for_a_stale_second_factor(steward, item):
    answer = answered(item, steward)
    client = Client()
    authenticator(steward)
    log_in(client, steward)
    make_stale(client)
    page = reverse("admin:recipients_correctionitem_change", args=[item.pk])
    approve = f"/admin/recipients/correctionitem/{item.pk}/act/approve/"
    before = sorted(item.organization.emails.values_list("address", flat=True))
    assert asks_again(client.post(approve, {"request": answer.pk}), page)
    answer.refresh_from_db()
    assert answer.decided_at is None
    assert sorted(item.organization.emails.values_list("address", flat=True)) == before
    pass_again(client, steward, page)
    client.post(approve, {"request": answer.pk})
    answer.refresh_from_db()
    assert answer.decided_at is not None
    assert list(item.organization.emails.values_list("address", flat=True)) == [NEW]


# --- Recovery ----------------------------------------------------------------------------------------------------
def reset(client: Client, user):
    url = reverse("admin:auth_user_changelist")
    return client.post(url, {"action": "reset_second_factor", "_selected_action": [user.pk]})


def test_an_administrator_resets_a_users_devices_and_it_is_audited(clerk):
    authenticator(clerk)
    backup_code(clerk)
    administrator = make_user("quantri", roles.ADMINISTRATOR)
    client = Client()
    log_in(client, administrator)
    make_stale(client)
    assert asks_again(reset(client, clerk), reverse("admin:auth_user_changelist"))
    assert TOTPDevice.objects.filter(user=clerk).exists()
    pass_again(client, administrator, reverse("admin:auth_user_changelist"))
    reset(client, clerk)
    assert not TOTPDevice.objects.filter(user=clerk).exists() and not StaticToken.objects.filter(device__user=clerk)
    event = AuditEvent.objects.get(action="second_factor_reset")
    assert (event.actor, event.object_id, event.details) == (administrator, str(clerk.pk), {"devices": 2})


def test_only_an_administrator_may_reset_a_second_factor(clerk, auditor):
    authenticator(clerk)
    clerk.user_permissions.add(*Group.objects.get(name=roles.ADMINISTRATOR).permissions.filter(
        codename__in=["view_user", "change_user"]))  # fmt: skip
    other = make_user("vanthu2", roles.CLERK)
    authenticator(other)
    client = Client()
    log_in(client, clerk)
    reset(client, other)
    assert not AuditEvent.objects.filter(action="second_factor_reset").exists()
    assert TOTPDevice.objects.filter(user=other).exists()
