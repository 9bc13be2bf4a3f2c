from __future__ import annotations

import pytest
from django.urls import reverse

from notices.models import AuditEvent

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"


def test_logins_logouts_and_failures_are_audited(client, clerk):
    client.post(LOGIN, {"username": "vanthu", "password": "wrong"}, REMOTE_ADDR="198.51.100.4")
    assert client.post(LOGIN, {"username": "vanthu", "password": "pw-for-tests-only"}).status_code == 302
    client.post(reverse("admin:logout"))
    events = list(AuditEvent.objects.order_by("seq").values_list("action", "actor_name", "details"))
    assert events == [
        ("login_failed", "", {"username": "vanthu"}),
        ("login", "vanthu", {}),
        ("logout", "vanthu", {}),
    ]
    assert AuditEvent.objects.get(action="login_failed").ip == "198.51.100.4"


def test_repeated_failures_lock_the_account_out_even_with_the_right_password(client, clerk, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "vanthu", "password": "wrong"})
    response = client.post(LOGIN, {"username": "vanthu", "password": "pw-for-tests-only"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_login_form_needs_a_csrf_token(clerk):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(LOGIN, {"username": "vanthu", "password": "pw-for-tests-only"})
    assert response.status_code == 403


def test_production_settings_secure_the_session(monkeypatch):
    import importlib

    import config.settings as project_settings

    monkeypatch.setenv("DEBUG", "false")
    try:
        production = importlib.reload(project_settings)
        assert production.SESSION_COOKIE_SECURE and production.CSRF_COOKIE_SECURE
        assert production.SECURE_HSTS_SECONDS >= 31536000 and production.SECURE_SSL_REDIRECT
        assert production.SESSION_COOKIE_AGE <= 8 * 3600 and production.SESSION_SAVE_EVERY_REQUEST
    finally:
        monkeypatch.delenv("DEBUG")
        importlib.reload(project_settings)


def fail(client, username: str, address: str) -> None:
    client.post(LOGIN, {"username": username, "password": "Mua-xuan-2026"}, REMOTE_ADDR=address)


def log_in(client, username: str, address: str) -> int:
    response = client.post(LOGIN, {"username": username, "password": "pw-for-tests-only"}, REMOTE_ADDR=address)
    return response.status_code


def test_spraying_one_password_over_many_users_locks_the_address(client, clerk, settings):
    settings.AXES_FAILURE_LIMITS = [5, 6, 100]
    for n in range(6):  # one failure per user name: the per-pair limit is never reached
        fail(client, f"nguoidung{n}", "203.0.113.7")
    assert log_in(client, "vanthu", "203.0.113.7") == 429, "the spraying address is locked out"
    assert log_in(client, "vanthu", "198.51.100.20") == 302, "the user is not, from elsewhere"


def test_guessing_one_user_from_many_addresses_locks_the_user(client, clerk, settings):
    settings.AXES_FAILURE_LIMITS = [5, 100, 4]
    for n in range(4):
        fail(client, "vanthu", f"203.0.113.{n + 1}")
    assert log_in(client, "vanthu", "198.51.100.20") == 429


def test_an_office_behind_one_address_keeps_working_under_its_limit(client, clerk, settings):
    settings.AXES_FAILURE_LIMITS = [5, 6, 100]
    for n in range(5):
        fail(client, f"nguoidung{n}", "203.0.113.7")
    assert log_in(client, "vanthu", "203.0.113.7") == 302


def test_a_successful_login_does_not_clear_the_addresses_failures(client, clerk, settings):
    settings.AXES_FAILURE_LIMITS = [5, 4, 100]
    for n in range(3):
        fail(client, f"nguoidung{n}", "203.0.113.7")
    assert log_in(client, "vanthu", "203.0.113.7") == 302  # the attacker's own account
    client.post(reverse("admin:logout"))
    fail(client, "nguoidung9", "203.0.113.7")
    assert log_in(client, "vanthu", "203.0.113.7") == 429
