"""The issuing agency, its drafting units and its signers: configurable data, not code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from notices.images import validate_seal_image, validate_signature_image

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def margin_field(label: StrOrPromise, low: int, high: int, default: int) -> models.PositiveSmallIntegerField:
    """Return a page-margin field in millimetres limited to the Decree-30 range."""
    return models.PositiveSmallIntegerField(
        label,
        default=default,
        validators=[MinValueValidator(low), MaxValueValidator(high)],
        help_text=format_lazy(_("In millimetres, {low}–{high} (Decree 30/2020)."), low=low, high=high),
    )


class Issuer(models.Model):
    parent_body = models.CharField(_("parent body"), max_length=255, help_text=_("e.g. BẢO HIỂM XÃ HỘI VIỆT NAM"))
    name = models.CharField(_("issuer name"), max_length=255, help_text=_("e.g. BẢO HIỂM XÃ HỘI THÀNH PHỐ HÀ NỘI"))
    # Document: where the name breaks in the header ("BẢO HIỂM XÃ HỘI | THÀNH PHỐ HÀ NỘI"), not where it overflows.
    printed_name = models.CharField(
        _("issuer name as printed"),
        max_length=255,
        blank=True,
        help_text=_(
            "The name in the dispatch header, with “|” where the line breaks, e.g. "
            "“BẢO HIỂM XÃ HỘI | THÀNH PHỐ HÀ NỘI”. Leave empty to print the issuer name on one line, wrapped to fit."
        ),
    )
    abbreviation = models.CharField(_("abbreviation"), max_length=20, help_text=_("e.g. BHXH"))
    # The national document exchange (edXML, QCVN 102:2016) names every body by its 13-character code.
    agency_code = models.CharField(
        _("agency code"),
        max_length=13,
        blank=True,
        help_text=_("13-character organisation code of the national document exchange (edXML), e.g. 000.00.00.G22."),
    )
    place = models.CharField(_("place"), max_length=100, default="Hà Nội")
    address = models.CharField(_("address"), max_length=500, blank=True)
    phone = models.CharField(_("phone"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    # Document layout: page margins within the legal ranges and the seal printed on signed dispatches.
    margin_top = margin_field(_("top margin"), 20, 25, 20)
    margin_bottom = margin_field(_("bottom margin"), 20, 25, 20)
    margin_left = margin_field(_("left margin"), 30, 35, 30)
    margin_right = margin_field(_("right margin"), 15, 20, 15)
    seal_image = models.ImageField(
        _("seal image"),
        upload_to="seals/",
        blank=True,
        validators=[validate_seal_image],
        help_text=_("Red PNG with a transparent background, printed at its true size (about 40 mm)."),
    )

    class Meta:
        verbose_name = _("issuer")
        verbose_name_plural = _("issuers")

    def __str__(self) -> str:
        return self.name

    def printed_name_lines(self) -> list[str]:
        """Return the header lines of the name, upper-cased: split at each "|", else the name as one line."""
        lines = [part.strip() for part in (self.printed_name or self.name).split("|")]
        return [line.upper() for line in lines if line]


class DraftingUnit(models.Model):
    issuer = models.ForeignKey(Issuer, models.PROTECT, related_name="units", verbose_name=_("issuer"))
    name = models.CharField(_("name"), max_length=255)
    abbreviation = models.CharField(_("abbreviation"), max_length=20, help_text=_("e.g. QLT"))
    # Replies from recipients go to a mailbox a person of the unit reads, never to the sending address.
    reply_to = models.EmailField(
        _("reply-to mailbox"),
        blank=True,
        help_text=_("Where recipients' replies go (the Reply-To of every email). Empty: the DEFAULT_REPLY_TO setting."),
    )

    class Meta:
        verbose_name = _("drafting unit")
        verbose_name_plural = _("drafting units")
        ordering = ["abbreviation"]
        constraints = [models.UniqueConstraint(fields=["issuer", "abbreviation"], name="unit_abbreviation_unique")]

    def __str__(self) -> str:
        return f"{self.abbreviation} – {self.name}"


class Signer(models.Model):
    issuer = models.ForeignKey(Issuer, models.PROTECT, related_name="signers", verbose_name=_("issuer"))
    full_name = models.CharField(_("full name"), max_length=200)
    authority = models.CharField(
        _("authority"), max_length=100, blank=True, help_text=_("e.g. KT. GIÁM ĐỐC (prefixes TM., Q., KT., TL., TUQ.)")
    )
    position = models.CharField(_("position"), max_length=100, help_text=_("e.g. PHÓ GIÁM ĐỐC"))
    active = models.BooleanField(_("active"), default=True)
    # Document layout: the handwritten signature printed between the position and the name.
    signature_image = models.ImageField(
        _("signature image"),
        upload_to="signatures/",
        blank=True,
        validators=[validate_signature_image],
        help_text=_("Blue PNG with a transparent background."),
    )

    class Meta:
        verbose_name = _("signer")
        verbose_name_plural = _("signers")
        ordering = ["full_name"]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.position})"
