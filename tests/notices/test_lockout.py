"""Login lockout (notices/lockout.py): limits per user name and address, per address and per user name."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"


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
