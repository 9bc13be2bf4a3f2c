"""API keys (api/models.py, api/authentication.py, api/permissions.py, api/throttling.py, api/admin.py)."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from api.models import ApiKey, Scope, digest
from notices.models import AuditEvent
from tests.api.conftest import KeyClient, new_key

SCOPED_CALLS = [  # (scope needed, method, path)
    (Scope.DRAFTS, "post", "/api/v1/drafts/"),
    (Scope.DRAFTS, "patch", "/api/v1/drafts/1/"),
    (Scope.DRAFTS, "post", "/api/v1/drafts/1/submit/"),
    (Scope.ISSUE, "post", "/api/v1/dispatches/1/approve/"),
    (Scope.ISSUE, "post", "/api/v1/dispatches/1/issue/"),
    (Scope.READ, "get", "/api/v1/dispatches/1/"),
    (Scope.READ, "get", "/api/v1/dispatches/1/deliveries/"),
    (Scope.READ, "get", "/api/v1/dispatches/1/acknowledgements/"),
    (Scope.READ, "get", "/api/v1/dispatches/1/pdf/"),
    (Scope.READ, "get", "/api/v1/dispatches/1/copies/TB00001/pdf/"),
    (Scope.READ, "get", "/api/v1/dispatches/1/edxml/"),
    (Scope.READ, "get", "/api/v1/callback/"),
    (Scope.READ, "put", "/api/v1/callback/"),
    (Scope.DIRECTORY, "get", "/api/v1/organizations/TB00001/"),
    (Scope.DIRECTORY, "post", "/api/v1/organizations/bulk/"),
]


def call(client, method: str, path: str, **extra):
    if method == "get":
        return client.get(path, **extra)
    return getattr(client, method)(path, "{}", content_type="application/json", **extra)


@pytest.mark.parametrize(("scope", "method", "path"), SCOPED_CALLS)
def test_every_endpoint_refuses_a_key_without_its_scope(scope, method, path, make_client, clerk):
    _key, client = make_client(clerk, [s for s in Scope if s != scope])
    response = call(client, method, path)
    assert response.status_code == 403
    assert response.json() == {"code": "scope_missing", "message": f"Khóa này không có quyền “{scope}”."}


@pytest.mark.parametrize(("scope", "method", "path"), SCOPED_CALLS)
def test_every_endpoint_refuses_a_call_without_a_key(scope, method, path, client, db):
    response = call(client, method, path)
    assert response.status_code == 401
    assert response.json()["code"] == "key_missing"
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_key_is_stored_only_as_its_hash(drafter):
    key, secret = new_key(drafter)
    assert secret.startswith(f"cv_{key.prefix}_")
    stored = ApiKey.objects.filter(pk=key.pk).values().get()
    assert stored["key_sha256"] == digest(secret)
    assert secret not in str(stored)
    assert ApiKey.objects.find(secret) == key
    assert ApiKey.objects.find(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None


@pytest.mark.parametrize("case", ["unknown", "revoked", "expired", "inactive account", "malformed"])
def test_it_refuses_a_key_that_is_not_usable(case, drafter):
    key, secret = new_key(drafter)
    if case == "unknown":
        secret = f"cv_{key.prefix}_not-the-secret"
    elif case == "revoked":
        key.revoke()
    elif case == "expired":
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    elif case == "inactive account":
        get_user_model().objects.filter(pk=drafter.pk).update(is_active=False)
    else:
        secret = "cv_only-two-parts"
    response = KeyClient(secret).get("/api/v1/callback/")
    assert response.status_code == 401
    assert response.json() == {
        "code": "key_invalid",
        "message": "Khóa API không tồn tại, đã bị thu hồi hoặc đã hết hạn.",
    }


def test_a_key_that_has_not_expired_yet_works(drafter):
    _key, secret = new_key(drafter, expires_at=timezone.now() + datetime.timedelta(hours=1))
    assert KeyClient(secret).get("/api/v1/callback/").status_code == 200


def test_it_refuses_a_call_from_an_address_outside_the_allow_list(drafter):
    _key, secret = new_key(drafter, allowed_ips=["10.0.0.0/24"])
    refused = KeyClient(secret).get("/api/v1/callback/", REMOTE_ADDR="10.0.1.5")
    assert refused.status_code == 403
    assert refused.json() == {"code": "ip_not_allowed", "message": "Khóa này không được dùng từ địa chỉ này."}
    assert KeyClient(secret).get("/api/v1/callback/", REMOTE_ADDR="10.0.0.7").status_code == 200


def test_it_answers_in_english_when_asked(drafter):
    _key, secret = new_key(drafter, allowed_ips=["10.0.0.0/24"])
    refused = KeyClient(secret).get("/api/v1/callback/", HTTP_ACCEPT_LANGUAGE="en-GB")
    assert refused.json()["message"] == "This key may not be used from this address."


def test_it_answers_429_with_retry_after_when_the_key_bucket_is_empty(drafter, settings):
    settings.API_RATE_PER_SECOND, settings.API_RATE_BURST = 1, 2
    _key, secret = new_key(drafter)
    _other, other_secret = new_key(drafter)
    client = KeyClient(secret)
    assert [client.get("/api/v1/callback/").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/api/v1/callback/")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    assert refused.json()["code"] == "rate_limited"
    assert KeyClient(other_secret).get("/api/v1/callback/").status_code == 200, "each key has its own bucket"


def test_a_key_may_have_its_own_rate(drafter, settings):
    settings.API_RATE_BURST = 1
    _key, secret = new_key(drafter, rate_per_second=1)
    client = KeyClient(secret)
    assert [client.get("/api/v1/callback/").status_code for _ in range(2)] == [200, 429]


def test_an_administrator_creates_a_key_in_the_admin_and_sees_it_once(admin_client, drafter):
    response = admin_client.post("/admin/api/apikey/add/", {
        "name": "Hệ thống thu BHXH", "user": drafter.pk, "scopes": ["drafts", "read"],
        "allowed_ips": "10.0.0.0/24, 192.168.1.7", "rate_per_second": "", "callback_url": "",
    })  # fmt: skip
    assert response.status_code == 200
    key = ApiKey.objects.get(name="Hệ thống thu BHXH")
    shown = response.context["key"]
    assert shown.startswith(f"cv_{key.prefix}_") and key.key_sha256 == digest(shown)
    assert shown in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert key.scopes == ["drafts", "read"] and key.allowed_ips == ["10.0.0.0/24", "192.168.1.7"]
    page = admin_client.get(f"/admin/api/apikey/{key.pk}/change/").content.decode()
    assert shown not in page and key.key_sha256 not in page
    assert AuditEvent.objects.filter(action="create", object_type="api.apikey", object_id=str(key.pk)).exists()
    assert KeyClient(shown).get("/api/v1/callback/", REMOTE_ADDR="10.0.0.9").status_code == 200


def test_the_admin_refuses_a_bad_allow_list_entry(admin_client, drafter):
    response = admin_client.post("/admin/api/apikey/add/", {
        "name": "X", "user": drafter.pk, "scopes": ["read"], "allowed_ips": "10.0.0.0/33",
    })  # fmt: skip
    assert "“10.0.0.0/33” is not an IP address or network." in response.content.decode()
    assert not ApiKey.objects.exists()


def test_an_administrator_revokes_a_key(admin_client, drafter):
    key, secret = new_key(drafter)
    admin_client.post("/admin/api/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert KeyClient(secret).get("/api/v1/callback/").status_code == 401
    assert AuditEvent.objects.filter(action="api_key:revoke", object_id=str(key.pk)).exists()
