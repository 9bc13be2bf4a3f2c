"""Login security (notices/login.py): the lockout backend, the audit of logins and logouts, CSRF on the form."""

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
