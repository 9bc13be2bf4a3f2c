"""The dispatch (công văn) and the gapless outgoing register it is numbered in."""

from __future__ import annotations

import datetime
import hashlib
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notices.models.sending_controls import SendingControls
from notices.models.workflow import DispatchWorkflow, WorkflowError
from recipients.models import Organization, OrganizationEmail

DispatchError = WorkflowError  # a dispatch action that its state or the user's role does not allow
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")  # CR/LF would break (or inject) the email's headers


class Urgency(models.TextChoices):
    NORMAL = "", _("Normal")
    URGENT = "khan", "KHẨN"
    VERY_URGENT = "thuong_khan", "THƯỢNG KHẨN"
    EXPRESS = "hoa_toc", "HỎA TỐC"


class Secrecy(models.TextChoices):
    NONE = "", _("Not secret")
    CONFIDENTIAL = "mat", "MẬT"
    SECRET = "toi_mat", "TỐI MẬT"
    TOP_SECRET = "tuyet_mat", "TUYỆT MẬT"


class Series(models.TextChoices):
    REGULAR = "regular", _("Regular")
    SECRET = "secret", _("Secret")


class DispatchStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    ISSUED = "issued", _("Issued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    PARTLY_FAILED = "partly_failed", _("Sent, some failed")
    RECALLED = "recalled", _("Recalled")


def format_place_date(place: str, day: datetime.date) -> str:
    """Return the Decree-30 place-and-date line: "Hà Nội, ngày 05 tháng 3 năm 2026".

    Days below 10 and the months January and February take a leading zero.
    """
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


class RegisterCounter(models.Model):
    """The last number given in one series of the outgoing register (per issuer and calendar year)."""

    issuer = models.ForeignKey("notices.Issuer", models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    series = models.CharField(max_length=10, choices=Series.choices)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "year", "series"], name="register_counter_unique")]

    def __str__(self) -> str:
        return f"{self.year} {self.series}: {self.last_number}"

    @classmethod
    def take_next(cls, issuer_id: int, year: int, series: str) -> int:
        """Return the next number of the series, holding its row lock until the transaction ends.

        The UPDATE locks the counter row, so a second clerk issuing at the same moment waits for
        this transaction: if it commits they get the following number, if it rolls back they get
        this one. Numbers are therefore never skipped and never repeated.
        """
        cls.objects.get_or_create(issuer_id=issuer_id, year=year, series=series)
        counter = cls.objects.filter(issuer_id=issuer_id, year=year, series=series)
        counter.update(last_number=F("last_number") + 1)
        return counter.values_list("last_number", flat=True).get()


class DispatchQuerySet(models.QuerySet):
    def issued(self) -> DispatchQuerySet:
        """Return the dispatches that carry a register number."""
        return self.filter(number__isnull=False)


class Dispatch(DispatchWorkflow, SendingControls, models.Model):
    Status, Urgency = DispatchStatus, Urgency  # read by SendingControls (which cannot import this module)
    issuer = models.ForeignKey("notices.Issuer", models.PROTECT, verbose_name=_("issuer"))
    drafting_unit = models.ForeignKey("notices.DraftingUnit", models.PROTECT, verbose_name=_("drafting unit"))
    signer = models.ForeignKey("notices.Signer", models.PROTECT, verbose_name=_("signer"))
    subject = models.CharField(_("subject (V/v)"), max_length=500, help_text=_("Without the leading “V/v”."))
    addressees = models.TextField(
        _("addressees (Kính gửi)"),
        blank=True,
        help_text=_("One per line. Leave empty to print the targeted groups' labels and organisations."),
    )
    body = models.TextField(_("body"))
    urgency = models.CharField(_("urgency"), max_length=20, choices=Urgency.choices, blank=True, default="")
    secrecy = models.CharField(_("secrecy"), max_length=20, choices=Secrecy.choices, blank=True, default="")
    groups = models.ManyToManyField("recipients.RecipientGroup", blank=True, verbose_name=_("recipient groups"))
    organizations = models.ManyToManyField(
        "recipients.Organization", blank=True, related_name="+", verbose_name=_("organisations")
    )
    extra_distribution = models.TextField(
        _("other distribution lines (Nơi nhận)"), blank=True, help_text=_("One per line, e.g. “Giám đốc (để b/c)”.")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=DispatchStatus.choices, default=DispatchStatus.DRAFT, db_index=True
    )
    series = models.CharField(_("register series"), max_length=10, choices=Series.choices, blank=True)
    year = models.PositiveSmallIntegerField(_("register year"), null=True, blank=True)
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True, db_index=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("issued by")
    )
    pdf = models.FileField(_("PDF"), upload_to="dispatches/", blank=True)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)
    # Verification (the document concern fills these at issue time).
    verification_code = models.CharField(_("verification code"), max_length=64, blank=True, db_index=True)
    short_code = models.CharField(_("short verification code"), max_length=16, blank=True, db_index=True)
    # Replacement (the workflow concern creates a replacement draft of an issued dispatch).
    replaces = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="replacements", verbose_name=_("replaces")
    )
    # Delivery engine: the operator's pause, and when the fan-out finished writing every delivery.
    sending_paused_at = models.DateTimeField(_("sending paused at"), null=True, blank=True)
    fanned_out_at = models.DateTimeField(_("all deliveries written at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    # Directory: the groups' rules and the organisations they selected, evaluated when the dispatch was issued.
    targets_snapshot = models.JSONField(_("targets at issue"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = DispatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "year", "series", "number"],
                condition=Q(number__isnull=False),
                name="dispatch_register_number_unique",
            ),
        ]

    def __str__(self) -> str:
        if self.number:
            return f"{self.notation} – {self.subject}"
        return str(_("Draft: %(subject)s") % {"subject": self.subject})

    def save(self, *args, **kwargs) -> None:
        from notices.sanitizing import sanitize_body

        Dispatch.clean(self)
        self.body = sanitize_body(self.body)  # document concern: only the allow-listed rich text is ever stored
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Refuse a subject with control characters: it becomes the email's Subject header."""
        super().clean()
        if CONTROL_CHARACTERS.search(self.subject or ""):
            raise ValidationError({"subject": _("The subject must be one line without control characters.")})

    # --- What is printed -------------------------------------------------------------------
    @property
    def is_secret(self) -> bool:
        return bool(self.secrecy)

    @property
    def number_display(self) -> str:
        """Return the register number with the leading zero below 10 ("05")."""
        return f"{self.number:02d}" if self.number else ""

    @property
    def notation(self) -> str:
        """Return "05/BHXH-QLT" (empty before issue)."""
        if not self.number:
            return ""
        return f"{self.number_display}/{self.issuer.abbreviation}-{self.drafting_unit.abbreviation}"

    @property
    def issued_date(self) -> datetime.date | None:
        return timezone.localdate(self.issued_at) if self.issued_at else None

    def place_date_line(self) -> str:
        """Return the place-and-date line for the issue date (today for a draft)."""
        return format_place_date(self.issuer.place, self.issued_date or timezone.localdate())

    def addressee_lines(self) -> list[str]:
        """Return the "Kính gửi" names: the typed lines, else the groups' labels and the organisations."""
        typed = [line.strip() for line in self.addressees.splitlines() if line.strip()]
        if typed:
            return typed
        return [g.label or g.name for g in self.groups.all()] + [o.name for o in self.organizations.all()]

    def distribution_lines(self) -> list[str]:
        """Return the "Nơi nhận" lines without their "- " and ";" punctuation.

        "Như trên" stands for the addressees; targeted groups not already named in "Kính gửi" follow it.
        """
        lines = ["Như trên"] if self.addressee_lines() else []
        if self.addressees.strip() and self.pk:
            lines += [g.label or g.name for g in self.groups.all()]
        lines += [line.strip() for line in self.extra_distribution.splitlines() if line.strip()]
        return lines + [f"Lưu: VT, {self.drafting_unit.abbreviation}"]

    def verification_url(self) -> str:
        """Return the public page where anyone can check this dispatch ('' before it has a code)."""
        if not self.verification_code:
            return ""
        return f"{settings.PUBLIC_BASE_URL}/xac-thuc/{self.verification_code}/"

    def email_subject(self) -> str:
        return f"[Số {self.notation}] V/v {self.subject}"

    # --- Who receives ----------------------------------------------------------------------
    def target_organizations(self):
        """Return the organisations reachable on the issue day, targeted directly or through a group's members/rule."""
        day = self.issued_date or timezone.localdate()
        targeted = Q(pk__in=self.organizations.all())
        for group in self.groups.all():
            targeted |= Q(pk__in=group.organizations(day).values("pk"))
        return Organization.objects.reachable(day).filter(targeted)

    def record_targets(self) -> None:
        """Keep in `targets_snapshot` how the groups and direct choices were evaluated on the issue day."""
        day = self.issued_date or timezone.localdate()
        self.targets_snapshot = {
            "day": day.isoformat(),
            "groups": [group.snapshot(day) for group in self.groups.all()],
            "organization_count": self.target_organizations().count(),
        }

    def recipient_addresses(self):
        """Return (organisation id, organisation name, address) rows, one per distinct address."""
        emails = OrganizationEmail.objects.filter(organization__in=self.target_organizations())
        return emails.order_by("address", "-primary", "organization_id").values_list(
            "organization_id", "organization__name", "address"
        )

    # --- Register ----------------------------------------------------------------------------
    def issue(self, user) -> None:
        """Number, render and store the dispatch, then start sending it once the transaction commits.

        Secret dispatches are registered in their own series and are never emailed.
        """
        from notices import audit, sending

        self.check_can_issue(user)  # the workflow: clerks only, approved dispatches only (refusals audited)
        with transaction.atomic():
            locked = Dispatch.objects.select_for_update().get(pk=self.pk)
            if locked.status != DispatchStatus.APPROVED:
                raise DispatchError(_("Only an approved dispatch can be issued."))
            self.issued_at = timezone.now()
            self.issued_by = user
            self.year = self.issued_date.year
            self.series = Series.SECRET if self.is_secret else Series.REGULAR
            self.number = RegisterCounter.take_next(self.issuer_id, self.year, self.series)
            self.status = DispatchStatus.ISSUED
            self.record_targets()
            self.finalize_document()
            self.save()
            audit.record(user, "issue", self, {"notation": self.notation, "pdf_sha256": self.pdf_sha256})
            if not self.is_secret:
                transaction.on_commit(lambda: sending.start(self.pk))

    # --- Document: the final, signed and verifiable PDF ------------------------------------------
    def finalize_document(self) -> None:
        """Give the dispatch its verification codes, then render, sign and store its final PDF."""
        from notices import verification

        self.verification_code = self.verification_code or verification.new_verification_code()
        self.short_code = self.short_code or verification.new_short_code()
        self.store_pdf(self.final_pdf())

    def final_pdf(self, appendices: list | None = None) -> bytes:
        """Return the issued dispatch rendered in the Decree-30 layout and signed when a certificate is set."""
        from notices import rendering, signing

        pdf = rendering.render_dispatch(self, appendices)
        return signing.sign_if_configured(pdf, reason=f"Phát hành văn bản số {self.notation}")

    def appendix_attachments(self) -> list[tuple[str, bytes]]:
        """Return the appendices as (file name, PDF bytes) pairs, in order, for the email after the dispatch."""
        return [(appendix.attachment_name(), appendix.read()) for appendix in self.appendices.all()]

    def store_pdf(self, data: bytes) -> None:
        """Keep the final PDF and its SHA-256 (the caller saves the row)."""
        self.pdf_sha256 = hashlib.sha256(data).hexdigest()
        name = f"{self.year}/{self.series}-{self.number:04d}-{self.pk}.pdf"
        self.pdf.save(name, ContentFile(data), save=False)
