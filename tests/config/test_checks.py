from __future__ import annotations

from config.checks import settings_check


def ids(settings) -> set[str]:
    return {problem.id for problem in settings_check(None)}


def test_it_accepts_the_embedded_defaults_in_debug(settings):
    settings.DEBUG = True
    assert ids(settings) == set()


def test_it_refuses_the_development_secret_key_when_debug_is_off(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = settings.DEV_SECRET_KEY
    assert "config.E001" in ids(settings)


def test_it_refuses_a_provider_without_a_webhook_secret(settings):
    settings.EMAIL_DELIVERY = "mailgun"
    settings.ANYMAIL = {"MAILGUN_API_KEY": "key"}
    assert "config.E002" in ids(settings)
    settings.ANYMAIL = {"MAILGUN_API_KEY": "key", "WEBHOOK_SECRET": "hook:secret"}
    assert "config.E002" not in ids(settings)


def test_it_asks_for_https_hosts_and_a_real_key_in_production(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = "x" * 50
    settings.ALLOWED_HOSTS = ["*"]
    settings.PUBLIC_BASE_URL = "http://congvan.example.vn"
    assert {"config.E003", "config.E004"} <= ids(settings)
    settings.ALLOWED_HOSTS = ["congvan.example.vn"]
    settings.PUBLIC_BASE_URL = "https://congvan.example.vn"
    assert not {"config.E001", "config.E003", "config.E004"} & ids(settings)


def test_it_asks_for_the_trusted_roots_when_a_certificate_is_configured(settings):
    settings.DEBUG = False
    settings.SIGNING_PKCS12_PATH, settings.SIGNING_TRUSTED_ROOTS = "/etc/congvan/agency.p12", ""
    assert "config.W003" in ids(settings)
    settings.SIGNING_TRUSTED_ROOTS = "/etc/congvan/roots.pem"
    assert "config.W003" not in ids(settings)
