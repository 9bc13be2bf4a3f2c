from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_the_admin_speaks_vietnamese_whatever_the_browser_prefers(client):
    response = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "vi"
    assert "Tên đăng nhập" in response.content.decode()


@pytest.mark.django_db
def test_english_is_available_when_chosen(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/admin/login/")
    assert response["Content-Language"] == "en"
    assert "Username" in response.content.decode()
