"""The correction loop's records: an address that bounced or complained, and the links its organisation answers.

A hard bounce or a complaint (seen by the sending side's tracking) opens a `CorrectionItem` for the directory
stewards. A steward sends the organisation a `CorrectionRequest`: a random token, stored only as its SHA-256, that
expires and is spent by the one answer it accepts (the staff's list of receiving addresses), which then waits
for a steward's approval (`recipients.correcting`). The models name other models by string, so that
`recipients.models` can import this module.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CorrectionReason(models.TextChoices):
    HARD_BOUNCE = "bounce", _("Hard bounce")
    COMPLAINT = "complaint", _("Complaint")


class CorrectionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ASKED = "asked", _("Link sent, awaiting the organisation")
    ANSWERED = "answered", _("Answered, awaiting approval")
    CORRECTED = "corrected", _("Corrected")
    CLOSED = "closed", _("Closed without change")


UNRESOLVED = [CorrectionStatus.OPEN, CorrectionStatus.ASKED, CorrectionStatus.ANSWERED]


class CorrectionItemQuerySet(models.QuerySet):
    def unresolved(self) -> CorrectionItemQuerySet:
        """Return the items a steward still has to act on."""
        return self.filter(status__in=UNRESOLVED)


class CorrectionItem(models.Model):
    """An organisation's address that bounced hard or complained: the stewards' work item until it is corrected."""

    organization = models.ForeignKey(
        "recipients.Organization", models.CASCADE, related_name="correction_items", verbose_name=_("organisation")
    )
    address = models.EmailField(_("email address"), max_length=254)
    reason = models.CharField(_("reason"), max_length=20, choices=CorrectionReason.choices)
    detail = models.TextField(_("detail"), blank=True)
    since = models.DateTimeField(_("failing since"), default=timezone.now, db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=CorrectionStatus.choices, default=CorrectionStatus.OPEN, db_index=True
    )
    corrected_address = models.EmailField(_("corrected address"), max_length=254, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        "auth.User", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("resolved by")
    )
    resent_at = models.DateTimeField(_("missed dispatches resent at"), null=True, blank=True)

    objects = CorrectionItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("correction item")
        verbose_name_plural = _("correction items")
        ordering = ["-since"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "address"],
                condition=Q(status__in=["open", "asked", "answered"]),
                name="correction_one_unresolved_per_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} – {self.address}"

    @property
    def is_unresolved(self) -> bool:
        return self.status in UNRESOLVED


def token_digest(token: str) -> str:
    """Return the SHA-256 of a link's token: what is stored, so a reader of the database cannot use a link."""
    return hashlib.sha256(token.encode()).hexdigest()


class CorrectionRequestQuerySet(models.QuerySet):
    def of_token(self, token: str) -> CorrectionRequest | None:
        """Return the request a link's token names (spent or expired ones too), or None for an unknown token."""
        if not token or len(token) > 100:
            return None
        found = self.select_related("item__organization").filter(token_sha256=token_digest(token)).first()
        return found if isinstance(found, CorrectionRequest) else None


class CorrectionRequest(models.Model):
    """One link sent to an organisation, and the one answer it accepts."""

    item = models.ForeignKey(CorrectionItem, models.CASCADE, related_name="requests", verbose_name=_("correction item"))
    token_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    sent_to = models.TextField(_("sent to"), blank=True, help_text=_("Empty when the link was printed for a call."))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        "auth.User", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    addresses = models.JSONField(_("proposed addresses"), default=list, blank=True)
    primary_address = models.EmailField(_("proposed primary address"), max_length=254, blank=True)
    contact_name = models.CharField(_("answered by"), max_length=200, blank=True)
    contact_phone = models.CharField(_("phone"), max_length=50, blank=True)
    note = models.TextField(_("note"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        "auth.User", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    approved = models.BooleanField(_("approved"), null=True)

    objects = CorrectionRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("correction link")
        verbose_name_plural = _("correction links")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.item} ({self.created_at:%d/%m/%Y})"

    @classmethod
    def issue(cls, item: CorrectionItem, user, sent_to: str = "") -> tuple[CorrectionRequest, str]:
        """Create a link for the item; return it and its token (shown or sent once, never stored)."""
        token = secrets.token_urlsafe(32)
        days = settings.CORRECTION_LINK_DAYS
        request = cls.objects.create(item=item, token_sha256=token_digest(token), sent_to=sent_to, created_by=user,
                                     expires_at=timezone.now() + datetime.timedelta(days=days))  # fmt: skip
        return request, token

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None

    @property
    def is_pending(self) -> bool:
        """Return whether the answer waits for a steward's decision."""
        return self.is_answered and self.decided_at is None

    def spend(self, addresses: list[str], primary: str, contact_name: str, contact_phone: str, note: str) -> bool:
        """Record the organisation's answer if the link is unspent and fresh; return False otherwise.

        One conditional UPDATE: of two submissions racing with the same link, exactly one changes the row.
        """
        now = timezone.now()
        fresh = type(self).objects.filter(pk=self.pk, answered_at__isnull=True, expires_at__gt=now)
        changed = fresh.update(answered_at=now, addresses=addresses, primary_address=primary,
                               contact_name=contact_name, contact_phone=contact_phone, note=note)  # fmt: skip
        if changed:
            self.refresh_from_db()
            CorrectionItem.objects.filter(pk=self.item_id, status__in=UNRESOLVED).update(
                status=CorrectionStatus.ANSWERED
            )
        return bool(changed)
