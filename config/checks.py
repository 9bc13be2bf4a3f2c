"""System checks that catch a missing or unsafe production setting before anything is sent."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from notices.dkim_signing import DkimKeyError, load_private_key


@register("settings", deploy=False)
def settings_check(app_configs, **kwargs) -> list[CheckMessage]:
    """Return the problems of the current settings; most matter only when DEBUG is off."""
    problems: list[CheckMessage] = []
    if settings.EMAIL_DELIVERY not in ("outbox", "smtp") and not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        problems.append(
            Error(
                "EMAIL_DELIVERY names an email provider but ANYMAIL_WEBHOOK_SECRET is not set.",
                hint="Set ANYMAIL_WEBHOOK_SECRET to 'user:password' and give the same to the provider's webhook.",
                id="config.E002",
            )
        )
    problems += dkim_problems()
    if settings.DEBUG:
        return problems
    if settings.SECRET_KEY == settings.DEV_SECRET_KEY or len(settings.SECRET_KEY) < 40:
        problems.append(
            Error(
                "SECRET_KEY is the public development key (or too short) while DEBUG is off.",
                hint="Set SECRET_KEY to a long random value, e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(50))'`.",
                id="config.E001",
            )
        )
    if not settings.ALLOWED_HOSTS or "*" in settings.ALLOWED_HOSTS:
        problems.append(Error("ALLOWED_HOSTS is empty or '*' while DEBUG is off.", id="config.E003"))
    if not settings.PUBLIC_BASE_URL.startswith("https://"):
        problems.append(
            Error(
                "PUBLIC_BASE_URL must be an https:// address in production: receivers verify dispatches there.",
                id="config.E004",
            )
        )
    if settings.EMAIL_DELIVERY == "smtp" and not settings.DKIM_PRIVATE_KEY_PATH:
        problems.append(
            Warning(
                "EMAIL_DELIVERY is 'smtp' but DKIM is not configured: receiving servers cannot verify our mail.",
                hint="Set DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_PATH and publish the key (README, DKIM).",
                id="config.W004",
            )
        )
    if settings.EMAIL_DELIVERY == "smtp" and not settings.BOUNCE_ADDRESS:
        problems.append(
            Warning(
                "BOUNCE_ADDRESS is not set: bounces of mail sent over SMTP never come back to the system.",
                hint="Set BOUNCE_ADDRESS and BOUNCE_IMAP_* (README, bounces).",
                id="config.W005",
            )
        )
    origins = settings.OTP_WEBAUTHN_ALLOWED_ORIGINS
    if settings.OTP_WEBAUTHN_RP_ID == "localhost" or any(not origin.startswith("https://") for origin in origins):
        problems.append(
            Warning(
                "OTP_WEBAUTHN_RP_ID is 'localhost' or an allowed origin is not https://: passkeys cannot work here.",
                hint="Set OTP_WEBAUTHN_RP_ID to the admin's host name and OTP_WEBAUTHN_ALLOWED_ORIGINS to its https:// origin.",
                id="config.W007",
            )
        )
    if settings.EMAIL_DELIVERY == "outbox":
        problems.append(Warning("EMAIL_DELIVERY is 'outbox': no email leaves this machine.", id="config.W001"))
    if not settings.SIGNING_PKCS12_PATH:
        problems.append(
            Warning("SIGNING_PKCS12_PATH is not set: issued dispatches are not digitally signed.", id="config.W002")
        )
    elif not settings.SIGNING_TSA_URL:
        problems.append(
            Warning(
                "SIGNING_TSA_URL is not set: issued PDFs are PAdES B-B and stop verifying once the certificate expires.",
                hint="Set SIGNING_TSA_URL to the time-stamping authority's address (README, long-term signatures).",
                id="config.W006",
            )
        )
    if settings.SIGNING_PKCS12_PATH and not settings.SIGNING_TRUSTED_ROOTS:
        problems.append(
            Warning(
                "SIGNING_TRUSTED_ROOTS is not set: verification trusts the roots bundled with the signing certificate.",
                hint="Set SIGNING_TRUSTED_ROOTS to a PEM file of the certification authority's root certificates.",
                id="config.W003",
            )
        )
    return problems


def dkim_problems() -> list[CheckMessage]:
    """Return the problems of the DKIM settings: a key that cannot be read, or a key without a domain."""
    if not settings.DKIM_PRIVATE_KEY_PATH:
        return []
    try:
        load_private_key(str(settings.DKIM_PRIVATE_KEY_PATH))
    except DkimKeyError as exc:
        return [Error(str(exc), hint="Give the path of an unencrypted RSA private key in PEM.", id="config.E005")]
    if not (settings.DKIM_DOMAIN and settings.DKIM_SELECTOR):
        return [Error("DKIM_PRIVATE_KEY_PATH is set but DKIM_DOMAIN or DKIM_SELECTOR is not.", id="config.E006")]
    return []
