"""API keys of the client systems, the dispatches each key created, and the status callbacks owed to them.

A key is `cv_<prefix>_<secret>`: the prefix finds the row, the SHA-256 of the whole key proves it; the key itself
is shown once, when an administrator creates it, and never stored. A key acts as the staff account it names
(`user`): the workflow's own permission checks apply to that account, and the key's scopes narrow them further.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PREFIX_BYTES, SECRET_BYTES = 6, 32


class Scope(models.TextChoices):
    DRAFTS = "drafts", _("Create, change and submit drafts")
    READ = "read", _("Read dispatches, deliveries and files")
    DIRECTORY = "directory", _("Look up and change the directory")
    ISSUE = "issue", _("Approve and issue dispatches")


def digest(key: str) -> str:
    """Return the SHA-256 (hex) under which a key is stored."""
    return hashlib.sha256(key.encode()).hexdigest()


def validate_networks(values: list[str]) -> None:
    """Refuse an allow-list entry that is not an IP address or network (e.g. 10.0.0.0/24)."""
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise ValidationError(_("“%(value)s” is not an IP address or network."), params={"value": value}) from exc


def validate_callback_url(value: str) -> None:
    """Refuse a callback URL that is not https:// (plain http only to an address the administrators allow-listed)."""
    if not value.startswith("https://") and not (value.startswith("http://") and settings.CALLBACK_ALLOW_HTTP):
        raise ValidationError(_("A callback URL must start with https://."))


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def usable(self) -> ApiKeyQuerySet:
        """Return the keys neither revoked nor expired."""
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )

    def find(self, key: str) -> ApiKey | None:
        """Return the usable key that `key` (cv_<prefix>_<secret>) is, or None (compared in constant time)."""
        parts = key.split("_")
        if len(parts) != 3 or parts[0] != "cv":
            return None
        found = self.usable().select_related("user").filter(prefix=parts[1]).first()
        if found is None or not hmac.compare_digest(found.key_sha256, digest(key)):
            return None
        return found


class ApiKey(models.Model):
    name = models.CharField(_("client system"), max_length=100, unique=True)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    key_sha256 = models.CharField(_("key SHA-256"), max_length=64, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("acts as"),
        help_text=_("The staff account whose role the key carries: the workflow checks its permissions."),
    )  # fmt: skip
    scopes = models.JSONField(_("scopes"), default=list)
    allowed_ips = models.JSONField(
        _("allowed IP addresses"), default=list, blank=True, validators=[validate_networks],
        help_text=_("Addresses or networks separated by commas; empty: any."),
    )  # fmt: skip
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    rate_per_second = models.FloatField(_("requests per second"), null=True, blank=True,
                                        help_text=_("Empty: the default (API_RATE_PER_SECOND)."))  # fmt: skip
    callback_url = models.URLField(_("status callback URL"), blank=True, max_length=500,
                                   validators=[validate_callback_url])  # fmt: skip
    callback_secret = models.CharField(_("callback signing secret"), max_length=64, editable=False, blank=True)
    # The last delivery event already turned into callbacks (the collector's keyset cursor).
    callback_cursor = models.BigIntegerField(default=0, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def new_key(self) -> str:
        """Give this (unsaved) key its prefix, hash and callback secret; return the key, to be shown once."""
        self.prefix = secrets.token_hex(PREFIX_BYTES)
        key = f"cv_{self.prefix}_{secrets.token_urlsafe(SECRET_BYTES).replace('_', '-')}"
        self.key_sha256 = digest(key)
        self.callback_secret = self.callback_secret or secrets.token_hex(32)
        return key

    def allows_ip(self, ip: str | None) -> bool:
        """Return whether a call from `ip` is allowed (any address when the allow-list is empty)."""
        if not self.allowed_ips:
            return True
        if not ip:
            return False
        address = ipaddress.ip_address(ip)
        return any(address in ipaddress.ip_network(net, strict=False) for net in self.allowed_ips)

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])


class KeyDispatch(models.Model):
    """A dispatch created through a key: its status changes are called back to that key's URL."""

    key = models.ForeignKey(ApiKey, models.CASCADE, related_name="dispatches", verbose_name=_("API key"))
    dispatch = models.OneToOneField("notices.Dispatch", models.CASCADE, related_name="+", verbose_name=_("dispatch"))

    class Meta:
        verbose_name = _("dispatch created through the API")
        verbose_name_plural = _("dispatches created through the API")

    def __str__(self) -> str:
        return f"{self.key} → {self.dispatch_id}"


class CallbackStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENT = "sent", _("Delivered")
    FAILED = "failed", _("Given up")


class Callback(models.Model):
    """One status change owed to a client system's URL, with what became of it."""

    key = models.ForeignKey(ApiKey, models.CASCADE, related_name="callbacks", verbose_name=_("API key"))
    event_id = models.BigIntegerField(_("delivery event"))
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=CallbackStatus.choices, default=CallbackStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("status callback")
        verbose_name_plural = _("status callbacks")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["key", "event_id"], name="api_callback_once_per_event")]

    def __str__(self) -> str:
        return f"{self.key} #{self.event_id}"
