"""Appendices (phụ lục): PDF files attached to the email after the dispatch itself."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models
from django.utils.translation import gettext_lazy as _

from config import sandbox
from notices import storage


def validate_pdf(upload) -> None:
    """Refuse a file that is too large or is not a PDF by its content (whatever its name says)."""
    limit = settings.APPENDIX_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            _("The appendix is larger than %(mb)s MB.") % {"mb": round(limit / 1024 / 1024, 1)}, code="too_large"
        )
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    if not data.startswith(b"%PDF-"):
        raise ValidationError(_("The appendix is not a PDF file."), code="not_pdf")
    cleaned_pdf(data)  # refuses an encrypted, damaged or empty file (the active content is stripped on save)


def cleaned_pdf(data: bytes) -> bytes:
    """Return the PDF rewritten without active content, by qpdf in the sandbox; raise ValidationError if refused."""
    try:
        return sandbox.run("notices.pdf_cleaning:clean_pdf", data)
    except sandbox.SandboxError as exc:
        raise ValidationError(_("The appendix PDF could not be checked: %(reason)s"), code="unchecked",
                              params={"reason": exc}) from exc  # fmt: skip


class Appendix(models.Model):
    dispatch = models.ForeignKey(
        "notices.Dispatch", models.CASCADE, related_name="appendices", verbose_name=_("dispatch")
    )
    title = models.CharField(_("title"), max_length=255, help_text=_("e.g. Danh sách đơn vị nợ đóng BHXH"))
    file = models.FileField(_("PDF file"), upload_to=storage.appendix_name, validators=[validate_pdf])
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    # Decree 30: a separate appendix file carries the agency's own digital signature; this copy is what is mailed.
    signed_file = models.FileField(_("signed PDF"), upload_to="appendices/signed/", blank=True, editable=False)
    signed_sha256 = models.CharField(_("signed PDF SHA-256"), max_length=64, blank=True, db_index=True, editable=False)

    class Meta:
        verbose_name = _("appendix")
        verbose_name_plural = _("appendices")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"Phụ lục {self.position}: {self.title}"

    def save(self, *args, **kwargs) -> None:
        # A new upload (Django's `_committed` flag, missing from the stubs): store only its rewritten, inert copy.
        if self.file and not self.file._committed:  # type: ignore[attr-defined]
            self.file = ContentFile(cleaned_pdf(self.read_upload()), name="appendix.pdf")
        super().save(*args, **kwargs)

    def read_upload(self) -> bytes:
        self.file.seek(0)
        data = self.file.read()
        self.file.seek(0)
        return data

    def attachment_name(self) -> str:
        """Return the file name the receiver sees: "05-BHXH-QLT-phu-luc-1.pdf"."""
        dispatch = self.dispatch
        prefix = f"{dispatch.number_display}-{dispatch.issuer.abbreviation}-{dispatch.drafting_unit.abbreviation}"
        return f"{prefix if dispatch.number else 'du-thao'}-phu-luc-{self.position}.pdf"

    def read(self) -> bytes:
        """Return the stored PDF bytes."""
        self.file.open("rb")
        with self.file:
            return self.file.read()

    def store_signed(self, data: bytes) -> None:
        """Keep the signed, stamped copy made at issue time and its SHA-256 (saves these two fields)."""
        self.signed_sha256 = hashlib.sha256(data).hexdigest()
        # A random name: the signed copy's address must not be guessable from the dispatch's number.
        self.signed_file.save(storage.random_name(), ContentFile(data), save=False)
        self.save(update_fields=["signed_file", "signed_sha256"])

    @property
    def mailed_file(self):
        """Return the file that is emailed: the signed copy once the dispatch is issued, else the upload."""
        return self.signed_file or self.file

    def read_mailed(self) -> bytes:
        """Return the bytes that are emailed (see `mailed_file`)."""
        mailed = self.mailed_file
        mailed.open("rb")
        with mailed:
            return mailed.read()
