from __future__ import annotations

import pytest
from django.utils import translation

from notices.models import DispatchStatus


@pytest.fixture
def vietnamese_default(settings):
    settings.LANGUAGE_CODE = "vi"  # the product's default (tests otherwise run in English)


@pytest.mark.django_db
def test_the_admin_speaks_vietnamese_whatever_the_browser_prefers(client, vietnamese_default, clerk):
    client.force_login(clerk)
    response = client.get("/admin/notices/dispatch/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    page = response.content.decode()
    assert response["Content-Language"] == "vi"
    assert "Hệ thống công văn — Bảo hiểm xã hội thành phố Hà Nội" in page
    assert "Dự thảo" in page and "Draft" not in page


@pytest.mark.django_db
def test_english_is_available_when_chosen(client, settings, vietnamese_default):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/admin/login/")
    assert response["Content-Language"] == "en"
    assert "Username" in response.content.decode()


def test_every_status_has_a_vietnamese_name():
    with translation.override("vi"):
        names = [str(label) for label in DispatchStatus.labels]
    with translation.override("en"):
        english = [str(label) for label in DispatchStatus.labels]
    assert all(vi != en for vi, en in zip(names, english, strict=True)), names


@pytest.mark.django_db
def test_the_language_switch_in_the_admin_changes_to_english_and_back(client, vietnamese_default, clerk):
    client.force_login(clerk)
    page = client.get("/admin/").content.decode()
    assert 'class="language-switch"' in page
    assert '<option value="vi" selected>' in page and '<option value="en">English</option>' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    assert "Official dispatches — Hà Nội social security" in client.get("/admin/").content.decode()
    client.post("/i18n/setlang/", {"language": "vi", "next": "/admin/"})
    assert "Hệ thống công văn" in client.get("/admin/").content.decode()
