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


def test_it_warns_when_signatures_will_not_outlive_the_certificate(settings):
    settings.DEBUG = False
    settings.SIGNING_PKCS12_PATH, settings.SIGNING_TRUSTED_ROOTS = "/etc/congvan/agency.p12", "/etc/congvan/roots.pem"
    settings.SIGNING_TSA_URL = ""
    assert "config.W006" in ids(settings)
    settings.SIGNING_TSA_URL = "https://tsa.example.vn/tsr"
    assert "config.W006" not in ids(settings)


def test_it_warns_when_passkeys_keep_their_development_host(settings):
    production(settings)
    assert "config.W007" in ids(settings)  # the defaults: localhost over http
    settings.OTP_WEBAUTHN_RP_ID = "congvan.example.vn"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = ["http://congvan.example.vn"]
    assert "config.W007" in ids(settings)
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = ["https://congvan.example.vn"]
    assert "config.W007" not in ids(settings)


def production(settings) -> None:
    settings.DEBUG = False
    settings.SECRET_KEY = "x" * 50
    settings.ALLOWED_HOSTS = ["congvan.example.vn"]
    settings.PUBLIC_BASE_URL = "https://congvan.example.vn"


def test_it_warns_when_mail_leaves_over_smtp_unsigned_in_production(settings, dkim_key):
    production(settings)
    settings.EMAIL_DELIVERY = "smtp"
    settings.DKIM_PRIVATE_KEY_PATH = ""
    assert "config.W004" in ids(settings)
    settings.DKIM_DOMAIN, settings.DKIM_SELECTOR = "bhxh.example.vn", "congvan2026"
    settings.DKIM_PRIVATE_KEY_PATH = str(dkim_key[0])
    assert not {"config.W004", "config.E005", "config.E006"} & ids(settings)
    settings.EMAIL_DELIVERY = "mailgun"  # the provider signs on its side
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:secret"}
    settings.DKIM_PRIVATE_KEY_PATH = ""
    assert "config.W004" not in ids(settings)


def test_it_refuses_an_unreadable_dkim_key_even_in_debug(settings, tmp_path):
    settings.DEBUG = True
    settings.DKIM_DOMAIN, settings.DKIM_SELECTOR = "bhxh.example.vn", "congvan2026"
    settings.DKIM_PRIVATE_KEY_PATH = str(tmp_path / "missing.pem")
    assert "config.E005" in ids(settings)
    (tmp_path / "garbage.pem").write_text("not a key")
    settings.DKIM_PRIVATE_KEY_PATH = str(tmp_path / "garbage.pem")
    assert "config.E005" in ids(settings)


def test_it_refuses_a_dkim_key_without_its_domain_and_selector(settings, dkim_key):
    settings.DEBUG = True
    settings.DKIM_PRIVATE_KEY_PATH, settings.DKIM_DOMAIN = str(dkim_key[0]), ""
    assert "config.E006" in ids(settings)


def test_it_warns_when_smtp_bounces_have_nowhere_to_go(settings):
    production(settings)
    settings.EMAIL_DELIVERY, settings.BOUNCE_ADDRESS = "smtp", ""
    assert "config.W005" in ids(settings)
    settings.BOUNCE_ADDRESS = "bounces@bhxh.example.vn"
    assert "config.W005" not in ids(settings)
