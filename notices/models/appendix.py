"""Appendices (phụ lục): PDF files attached to the email after the dispatch itself."""

from __future__ import annotations

import io

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from pypdf import PdfReader
from pypdf.errors import PyPdfError

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
    try:
        if len(PdfReader(io.BytesIO(data)).pages) < 1:
            raise ValidationError(_("The appendix PDF has no pages."), code="empty_pdf")
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(_("The appendix PDF is damaged and cannot be read."), code="broken_pdf") from exc


class Appendix(models.Model):
    dispatch = models.ForeignKey(
        "notices.Dispatch", models.CASCADE, related_name="appendices", verbose_name=_("dispatch")
    )
    title = models.CharField(_("title"), max_length=255, help_text=_("e.g. Danh sách đơn vị nợ đóng BHXH"))
    file = models.FileField(_("PDF file"), upload_to=storage.appendix_name, validators=[validate_pdf])
    position = models.PositiveSmallIntegerField(_("order"), default=1)

    class Meta:
        verbose_name = _("appendix")
        verbose_name_plural = _("appendices")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"Phụ lục {self.position}: {self.title}"

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
