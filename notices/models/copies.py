"""The copies of a personalised dispatch: one signed PDF per organisation, with its own hash and codes.

A personalised dispatch takes one register number; each organisation it reaches receives its own copy
("Kính gửi: <that organisation>", its own fields), which the verification page knows by the copy's own codes.
"""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notices import storage
from notices.models import codes
from notices.models.dispatch import Dispatch


class DispatchCopyQuerySet(models.QuerySet["DispatchCopy"]):
    def new_short_code(self) -> str:
        """Return a fresh short code that neither a dispatch nor a copy uses yet (`DispatchQuerySet.new_short_code`)."""
        return Dispatch.objects.new_short_code()

    def new_short_codes(self, count: int) -> list[str]:
        """Return `count` fresh short codes that neither a dispatch nor a copy uses yet (two queries, not 2n)."""
        while True:
            wanted = {codes.random_short_code() for _ in range(count)}
            taken = set(self.filter(short_code__in=wanted).values_list("short_code", flat=True))
            taken |= set(Dispatch.objects.filter(short_code__in=wanted).values_list("short_code", flat=True))
            if len(wanted) == count and not taken:
                return sorted(wanted)

    def store(self, dispatch, organization, subject: str, data: bytes, verification_code: str, short_code: str,
              full_render: bool = True) -> DispatchCopy | None:  # fmt: skip
        """Store one organisation's signed copy under a random name with its SHA-256 and the codes it prints;
        return it, or None when another worker stored it first."""
        copy = self.model(dispatch=dispatch, organization=organization, organization_name=organization.name,
                          subject=subject, verification_code=verification_code, short_code=short_code,
                          full_render=full_render)  # fmt: skip
        copy.pdf_sha256 = hashlib.sha256(data).hexdigest()
        copy.pdf.save(f"{dispatch.year}/{storage.random_name()}", ContentFile(data), save=False)  # under copies/
        try:
            with transaction.atomic():
                copy.save()
        except IntegrityError:  # a duplicated task rendered the same organisation: the first copy stands
            copy.pdf.delete(save=False)
            return None
        return copy


class DispatchCopy(models.Model):
    dispatch = models.ForeignKey(
        "notices.Dispatch", models.PROTECT, related_name="personal_copies", verbose_name=_("dispatch")
    )
    organization = models.ForeignKey(
        "recipients.Organization", models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    organization_name = models.CharField(_("organisation name at issue"), max_length=255)
    subject = models.CharField(_("subject of this copy"), max_length=500)
    pdf = models.FileField(_("PDF"), upload_to="copies/")
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64)
    verification_code = models.CharField(_("verification code"), max_length=64, unique=True,
                                         default=codes.new_verification_code)  # fmt: skip
    short_code = models.CharField(_("short verification code"), max_length=16, unique=True)
    signed_at = models.DateTimeField(_("signed at"), default=timezone.now)
    full_render = models.BooleanField(_("rendered in full"), default=False, editable=False)

    objects = DispatchCopyQuerySet.as_manager()

    class Meta:
        verbose_name = _("copy of a personalised dispatch")
        verbose_name_plural = _("copies of personalised dispatches")
        ordering = ["dispatch", "organization_name", "pk"]
        constraints = [models.UniqueConstraint(fields=["dispatch", "organization"], name="copy_one_per_organization")]

    def __str__(self) -> str:
        return f"{self.dispatch.notation} – {self.organization_name}"

    def save(self, *args, **kwargs) -> None:
        self.short_code = self.short_code or DispatchCopy.objects.new_short_code()
        super().save(*args, **kwargs)

    def verification_url(self) -> str:
        """Return the public page where anyone can check this copy."""
        return self.dispatch.verification_url_of(self.verification_code)

    def read(self) -> bytes:
        with self.pdf.open("rb") as stored:
            return stored.read()

    def attachment_name(self) -> str:
        dispatch = self.dispatch
        return f"{dispatch.number_display}-{dispatch.issuer.abbreviation}-{dispatch.drafting_unit.abbreviation}.pdf"
