"""The dispatch (công văn) and the gapless outgoing register it is numbered in."""

from __future__ import annotations

import datetime
import hashlib
import re
import zoneinfo
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from notices import storage, templating
from notices.models import codes
from notices.models.choices import Secrecy, Urgency
from notices.models.merge_report import merge_report
from notices.models.numbering import RegisterCounter, Series
from notices.models.printed import distinct_from, format_place_date, printed_group_lines
from notices.models.search import folded_field, keep_folded
from notices.models.sending_controls import SendingControls
from notices.models.timing import DispatchTiming, due_for_issue
from notices.models.workflow import WORKFLOW_PERMISSIONS, DispatchStatus, DispatchWorkflow, WorkflowError
from notices.sanitizing import sanitize_body
from recipients.models import Organization, OrganizationEmail, Suppression

__all__ = ["Dispatch", "DispatchError", "DispatchStatus", "RegisterCounter", "Secrecy", "Series", "Urgency"]
DispatchError = WorkflowError  # a dispatch action that its state or the user's role does not allow
# The register's calendar is the agency's: a dispatch issued at 00:10 on 1 January in Hà Nội is in the new year.
REGISTER_TIMEZONE = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")  # CR/LF would break (or inject) the email's headers


@dataclass(frozen=True)
class IssuePreview:
    """What issuing a dispatch now would do: the number it takes and whom it reaches (the confirmation page)."""

    notation: str
    organizations: int
    addresses: int
    emails: int  # one per address, or of a personalised dispatch one per address and organisation (its own copy)
    suppressed: int  # emails not sent: their address is on the suppression list
    empty_groups: list
    refusal: str | None


class DispatchQuerySet(models.QuerySet):
    def issued(self) -> DispatchQuerySet:
        """Return the dispatches that carry a register number."""
        return self.filter(number__isnull=False)

    def due_for_issue(self, now) -> DispatchQuerySet:
        """Return the scheduled dispatches whose time has come (the beat task issues them)."""
        return due_for_issue(self, now)

    def new_short_code(self) -> str:
        """Return a fresh short verification code that neither a dispatch nor a copy of a personalised one uses.

        The one rule for both: the verification page looks a short code up among dispatches and copies alike.
        """
        copies = apps.get_model("notices", "DispatchCopy")._default_manager  # models/copies.py imports this module
        while True:
            code = codes.random_short_code()
            if not Dispatch.objects.filter(short_code=code).exists() and not copies.filter(short_code=code).exists():
                return code


class Dispatch(DispatchWorkflow, DispatchTiming, SendingControls, models.Model):
    issuer = models.ForeignKey("notices.Issuer", models.PROTECT, verbose_name=_("issuer"))
    drafting_unit = models.ForeignKey("notices.DraftingUnit", models.PROTECT, verbose_name=_("drafting unit"))
    signer = models.ForeignKey("notices.Signer", models.PROTECT, verbose_name=_("signer"))
    subject = models.CharField(_("subject (V/v)"), max_length=500, help_text=_("Without the leading “V/v”."))
    # The subject folded for accent-insensitive search ("ba dinh" finds "Ba Đình"), kept by save().
    search_subject = folded_field(_("subject for search"), 500)
    addressees = models.TextField(
        _("addressees (Kính gửi)"),
        blank=True,
        help_text=_("One per line. Leave empty to print the targeted groups' labels and organisations."),
    )
    body = models.TextField(_("body"))
    personalised = models.BooleanField(
        _("personalised"),
        default=False,
        help_text=_("Each organisation receives its own copy, filled from a merge data file."),
    )
    urgency = models.CharField(_("urgency"), max_length=20, choices=Urgency.choices, blank=True, default="")
    secrecy = models.CharField(_("secrecy"), max_length=20, choices=Secrecy.choices, blank=True, default="")
    groups = models.ManyToManyField("recipients.RecipientGroup", blank=True, verbose_name=_("recipient groups"))
    organizations = models.ManyToManyField(
        "recipients.Organization", blank=True, related_name="+", verbose_name=_("organisations")
    )
    extra_distribution = models.TextField(
        _("other distribution lines (Nơi nhận)"), blank=True, help_text=_("One per line, e.g. “Giám đốc (để b/c)”.")
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
        permissions = WORKFLOW_PERMISSIONS
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
        if self.status == DispatchStatus.SCHEDULED:
            return str(_("Scheduled: %(subject)s") % {"subject": self.subject})
        if self.status == DispatchStatus.APPROVED:
            return str(_("Approved: %(subject)s") % {"subject": self.subject})
        return str(_("Draft: %(subject)s") % {"subject": self.subject})

    def save(self, *args, **kwargs) -> None:
        Dispatch.clean(self)
        self.body = sanitize_body(self.body)  # document concern: only the allow-listed rich text is ever stored
        keep_folded(self, "subject", "search_subject", kwargs)
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
    def is_emailed(self) -> bool:
        """Return True unless the dispatch is secret: a secret dispatch is registered, never emailed."""
        return not self.is_secret

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
        """Return the "Kính gửi" names: the typed lines, else the groups' printed lines and the organisations."""
        typed = [line.strip() for line in self.addressees.splitlines() if line.strip()]
        if typed:
            return typed
        day = self.issued_date or timezone.localdate()
        groups = [line for group in self.groups.all() for line in printed_group_lines(group, day)]
        return groups + [o.name for o in self.organizations.all()]

    def distribution_lines(self) -> list[str]:
        """Return the "Nơi nhận" lines without their "- " and ";" punctuation.

        "Như trên" stands for the addressees, so no addressee is named again; targeted groups not already named
        in "Kính gửi" follow it, as a records clerk prints them (never a group's internal name).
        """
        addressees = self.addressee_lines()
        lines = ["Như trên"] if addressees else []
        if self.addressees.strip() and self.pk:
            day = self.issued_date or timezone.localdate()
            lines += [line for group in self.groups.all() for line in printed_group_lines(group, day)]
        lines += [line.strip() for line in self.extra_distribution.splitlines() if line.strip()]
        return distinct_from(lines, addressees) + [f"Lưu: VT, {self.drafting_unit.abbreviation}"]

    def verification_url(self) -> str:
        """Return the public page where anyone can check this dispatch ('' before it has a code)."""
        return self.verification_url_of(self.verification_code)

    def verification_url_of(self, code: str) -> str:
        """Return the verification page of a code of this dispatch or of one of its copies ('' without one)."""
        return f"{settings.PUBLIC_BASE_URL}/xac-thuc/{code}/" if code else ""

    def email_subject(self, about: str = "") -> str:
        """Return "[Số 05/BHXH-QLT] V/v ...", about the dispatch's subject or the given one (a copy's)."""
        return f"[Số {self.notation}] V/v {about or self.subject}"

    # --- Who receives ----------------------------------------------------------------------
    def target_organizations(self):
        """Return the organisations reachable on the issue day, targeted directly or through a group's members/rule."""
        day = self.issued_date or timezone.localdate()
        targeted = Q(pk__in=self.organizations.all())
        for group in self.groups.all():
            targeted |= Q(pk__in=group.organizations(day).values("pk"))
        return Organization.objects.reachable(day).filter(targeted)

    def organizations_without_copy(self):
        """Return the targeted organisations that have no copy of this personalised dispatch yet, in a stable order."""
        return self.target_organizations().exclude(pk__in=self.personal_copies.values("organization_id")).order_by("pk")

    def record_targets(self) -> None:
        """Keep in `targets_snapshot` how the groups and direct choices were evaluated on the issue day."""
        day = self.issued_date or timezone.localdate()
        self.targets_snapshot = {
            "day": day.isoformat(),
            "groups": [group.snapshot(day) for group in self.groups.all()],
            "organization_count": self.target_organizations().count(),
        }

    def recipient_addresses(self):
        """Return (organisation id, organisation name, address, folded name) rows, one per distinct address."""
        emails = OrganizationEmail.objects.filter(organization__in=self.target_organizations())
        return emails.order_by("address", "-primary", "organization_id").values_list(
            "organization_id", "organization__name", "address", "organization__search_name"
        )

    def recipient_refusal(self, at_issue: bool):
        """Return why the dispatch has nobody to go to (a message), or None.

        An emailed dispatch must target a group or an organisation, and on the issue day reach one address at
        least; a secret one (delivered on paper) must name an addressee.
        """
        if not self.is_emailed:
            return None if self.addressee_lines() else _("This dispatch has no addressee: name at least one.")
        if not self.groups.exists() and not self.organizations.exists():
            return _("This dispatch has no recipient: choose at least one recipient group or organisation.")
        if at_issue and not self.recipient_addresses().exists():
            return _("This dispatch reaches no email address today: its groups and organisations have none.")
        return None

    def merge_refusal(self):
        """Return why a personalised dispatch's merge data stops it (the first problems, counted), or None."""
        report = merge_report(self)
        if not report.has_errors:
            return None
        texts = report.messages()
        return _("The merge data has %(count)d problems (fix them first): %(first)s") % {
            "count": len(texts), "first": "; ".join(texts[:3])}  # fmt: skip

    @property
    def register_subject(self) -> str:
        """Return the subject as the register lists it, once for the dispatch: a personalised one's subject is a
        template each copy fills, shown with each field as [its column's name in the merge file]."""
        if not self.personalised:
            return self.subject
        merge_file = getattr(self, "merge_file", None)  # None when no file was attached
        labels = {name: header for header, name in (merge_file.columns if merge_file else [])}
        return templating.outline(self.subject, {"ten_don_vi": gettext("organisation name"), **labels})

    def issue_preview(self) -> IssuePreview:
        """Return the register number issuing would take now and how many it would reach, and who not.

        A personalised dispatch sends each organisation its own copy, so an address several organisations share
        receives one email per organisation: its emails are counted by (address, organisation) pair, as the fan-out
        writes them.
        """
        series = Series.SECRET if self.is_secret else Series.REGULAR
        year = timezone.now().astimezone(REGISTER_TIMEZONE).year
        number = RegisterCounter.peek_next(self.issuer_id, year, series)
        day = timezone.localdate()
        empty = [g for g in self.groups.all() if not OrganizationEmail.objects.filter(organization__in=g.organizations(day)).exists()]  # fmt: skip
        emailed = self.is_emailed
        emails, suppressed = self.email_counts() if emailed else (0, 0)
        return IssuePreview(
            notation=f"{number:02d}/{self.issuer.abbreviation}-{self.drafting_unit.abbreviation}",
            organizations=self.target_organizations().count() if emailed else 0,
            addresses=self.recipient_addresses().values("address").distinct().count() if emailed else 0,
            emails=emails,
            suppressed=suppressed,
            empty_groups=empty if emailed else [],
            refusal=self.recipient_refusal(at_issue=True),
        )

    def email_counts(self) -> tuple[int, int]:
        """Return how many dispatch emails issuing would write, and how many of them go to a suppressed address."""
        per_email = ("address", "organization_id") if self.personalised else ("address",)
        emails = self.recipient_addresses().values(*per_email).order_by().distinct()
        blocked = Suppression.objects.active().annotate(folded=Lower("address")).values("folded")
        return emails.count(), emails.filter(address__in=blocked).count()

    # --- Register ----------------------------------------------------------------------------
    def register(self, user) -> None:
        """Give the dispatch its register number, issue time and verification codes (the caller saves it).

        Call inside a transaction: the series counter stays row-locked until it ends. Secret dispatches are
        numbered in their own series.
        """
        self.issued_at = timezone.now()
        self.issued_by = user
        self.year = self.issued_at.astimezone(REGISTER_TIMEZONE).year
        self.series = Series.SECRET if self.is_secret else Series.REGULAR
        self.number = RegisterCounter.take_next(self.issuer_id, self.year, self.series)
        self.status = DispatchStatus.ISSUED
        self.record_targets()
        self.verification_code = self.verification_code or codes.new_verification_code()
        self.short_code = self.short_code or Dispatch.objects.new_short_code()

    def appendix_attachments(self) -> list[tuple[str, bytes]]:
        """Return the appendices as (file name, PDF bytes) pairs, in order, for the email after the dispatch."""
        return [(appendix.attachment_name(), appendix.read_mailed()) for appendix in self.appendices.all()]

    def store_pdf(self, data: bytes) -> None:
        """Keep the final PDF and its SHA-256 (the caller saves the row)."""
        self.pdf_sha256 = hashlib.sha256(data).hexdigest()
        name = f"{self.year}/{storage.random_name()}"  # never guessable from the notation
        self.pdf.save(name, ContentFile(data), save=False)
