"""System checks that catch a missing or unsafe production setting before anything is sent."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register


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
    if settings.EMAIL_DELIVERY == "outbox":
        problems.append(Warning("EMAIL_DELIVERY is 'outbox': no email leaves this machine.", id="config.W001"))
    if not settings.SIGNING_PKCS12_PATH:
        problems.append(
            Warning("SIGNING_PKCS12_PATH is not set: issued dispatches are not digitally signed.", id="config.W002")
        )
    elif not settings.SIGNING_TRUSTED_ROOTS:
        problems.append(
            Warning(
                "SIGNING_TRUSTED_ROOTS is not set: verification trusts the roots bundled with the signing certificate.",
                hint="Set SIGNING_TRUSTED_ROOTS to a PEM file of the certification authority's root certificates.",
                id="config.W003",
            )
        )
    return problems
