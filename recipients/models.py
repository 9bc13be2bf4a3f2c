"""Who receives dispatches: organisations, their addresses, groups and the suppression list."""

from __future__ import annotations

import datetime
import re

from django.db import models
from django.db.models import Case, IntegerField, Q, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from recipients.addresses import validate_address
from recipients.folding import fold


class OrganizationKind(models.TextChoices):
    SOCIAL_SECURITY_OFFICE = "bhxh", _("District social-security office")
    POLICE = "police", _("Police")
    PEOPLES_COMMITTEE = "committee", _("People's committee")
    CITY_DEPARTMENT = "department", _("City department")
    EMPLOYER = "employer", _("Employer")
    COLLECTION_AGENT = "agent", _("Collection agent")
    OTHER = "other", _("Other")


class OrganizationLevel(models.TextChoices):
    CITY = "city", _("City")
    DISTRICT = "district", _("District")
    COMMUNE = "commune", _("Commune")


def search_form(name: str) -> str:
    """Return the folded name the accent-insensitive search matches ("Ba Đình" -> "ba dinh")."""
    return fold(name)[:255]


def normalize_tags(text: str) -> str:
    """Return tags split on commas or semicolons, trimmed, lower-cased, de-duplicated and sorted."""
    tags = {tag.strip().lower() for tag in re.split(r"[,;]", text or "")}
    return ", ".join(sorted(tag for tag in tags if tag))


# The kinds that are not state bodies: they are not on the national document exchange (edXML).
NON_STATE_KINDS = (OrganizationKind.EMPLOYER, OrganizationKind.COLLECTION_AGENT)


class OrganizationQuerySet(models.QuerySet):
    def edxml_receivers(self) -> OrganizationQuerySet:
        """Return the state bodies that carry an agency code: those an edXML package is addressed to."""
        return self.exclude(kind__in=NON_STATE_KINDS).exclude(agency_code="")

    def ranked_for(self, text: str) -> OrganizationQuerySet:
        """Return the organisations ordered for a search of `text`, accents and case aside.

        The name itself first, then names starting with it, then names with a word starting with it, then the rest.
        """
        term = " ".join(search_form(text).split())
        rank = Case(
            When(search_name=term, then=0),
            When(search_name__startswith=term, then=1),
            When(search_name__contains=f" {term}", then=2),
            default=3,
            output_field=IntegerField(),
        )
        return self.annotate(search_rank=rank).order_by("search_rank", "name", "pk")

    def tagged(self, tag: str) -> OrganizationQuerySet:
        """Return the organisations carrying `tag` (a whole tag, not a substring of one)."""
        return self.filter(tags__iregex=rf"(^|, ){re.escape(tag.strip().lower())}(,|$)")

    def valid_on(self, day: datetime.date) -> OrganizationQuerySet:
        """Return the organisations that exist on `day` (validity dates are inclusive)."""
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day)).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=day)
        )

    def reachable(self, day: datetime.date | None = None) -> OrganizationQuerySet:
        """Return the active organisations valid on `day` (today in Hà Nội by default)."""
        return self.filter(active=True).valid_on(day or timezone.localdate())


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=255)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganizationKind.choices, db_index=True)
    level = models.CharField(_("level"), max_length=10, choices=OrganizationLevel.choices, db_index=True)
    area = models.CharField(_("area"), max_length=100, blank=True, db_index=True)
    agency_code = models.CharField(
        _("agency code"), max_length=13, blank=True, help_text=_("13-character organisation code (edXML).")
    )
    bhxh_code = models.CharField(_("BHXH unit code"), max_length=20, blank=True)
    tax_code = models.CharField(_("tax code"), max_length=14, blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=500, blank=True)
    active = models.BooleanField(_("active"), default=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    # Directory: free tags that rule-based groups select on, stored normalised as "tag-a, tag-b".
    tags = models.CharField(
        _("tags"), max_length=255, blank=True, help_text=_("Comma-separated, e.g. “fdi, large-employer”.")
    )
    # The name folded for accent-insensitive search ("ba dinh" finds "Ba Đình"), kept by save() and the import.
    search_name = models.CharField(
        _("name for search"), max_length=255, blank=True, default="", db_default="", editable=False, db_index=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        indexes = [models.Index(fields=["kind", "name"], name="org_kind_name_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["agency_code"], condition=~Q(agency_code=""), name="org_agency_code_unique"
            ),
            models.UniqueConstraint(fields=["bhxh_code"], condition=~Q(bhxh_code=""), name="org_bhxh_code_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.tags = normalize_tags(self.tags)
        self.search_name = search_form(self.name)
        if kwargs.get("update_fields") is not None and "name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_name"}
        super().save(*args, **kwargs)

    @property
    def primary_email(self) -> str:
        """Return the primary address, or the first one, or ''."""
        emails = sorted(self.emails.all(), key=lambda e: (not e.primary, e.pk))
        return emails[0].address if emails else ""


class OrganizationEmail(models.Model):
    organization = models.ForeignKey(Organization, models.CASCADE, related_name="emails")
    address = models.EmailField(_("email address"), max_length=254, db_index=True, validators=[validate_address])
    primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("email address")
        verbose_name_plural = _("email addresses")
        constraints = [
            models.UniqueConstraint(fields=["organization", "address"], name="org_email_unique"),
            models.UniqueConstraint(fields=["organization"], condition=Q(primary=True), name="org_one_primary_email"),
        ]

    def __str__(self) -> str:
        return self.address

    def save(self, *args, **kwargs) -> None:
        self.address = self.address.strip().lower()
        super().save(*args, **kwargs)


class RecipientGroup(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    label = models.CharField(
        _("printed label"),
        max_length=255,
        blank=True,
        help_text=_("Printed on dispatches instead of every member, e.g. “BHXH các quận, huyện, thị xã”."),
    )
    members = models.ManyToManyField(Organization, related_name="groups", blank=True, verbose_name=_("members"))
    # Directory: a rule selects every organisation matching all the criteria set, on the day it is evaluated.
    rule_kind = models.CharField(_("rule: kind"), max_length=20, choices=OrganizationKind.choices, blank=True)
    rule_level = models.CharField(_("rule: level"), max_length=10, choices=OrganizationLevel.choices, blank=True)
    rule_area = models.CharField(_("rule: area"), max_length=100, blank=True)
    rule_tag = models.CharField(_("rule: tag"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("recipient group")
        verbose_name_plural = _("recipient groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_rule(self) -> bool:
        return bool(self.rule_kind or self.rule_level or self.rule_area or self.rule_tag)

    def rule(self) -> dict[str, str]:
        """Return the criteria that are set, e.g. {"kind": "committee", "level": "commune"}."""
        rule = {"kind": self.rule_kind, "level": self.rule_level, "area": self.rule_area, "tag": self.rule_tag}
        return {key: value for key, value in rule.items() if value}

    def rule_matches(self) -> OrganizationQuerySet:
        """Return the organisations the rule selects (none when no criterion is set)."""
        if not self.has_rule:
            return Organization.objects.none()
        matches = Organization.objects.all()
        for key, value in self.rule().items():
            matches = matches.tagged(value) if key == "tag" else matches.filter(**{f"{key}__iexact": value})
        return matches

    def organizations(self, day: datetime.date | None = None) -> OrganizationQuerySet:
        """Return the static members and the rule's matches that are reachable on `day` (today by default)."""
        selected = Q(pk__in=self.members.values("pk")) | Q(pk__in=self.rule_matches().values("pk"))
        return Organization.objects.reachable(day).filter(selected)

    def snapshot(self, day: datetime.date) -> dict:
        """Return what the group is and how many it selects on `day`, for the record kept at issue.

        Who exactly was selected is recorded row by row in the dispatch's deliveries (organisation,
        its name then, the address); a list of up to 100,000 ids here would be parsed on every load
        of the dispatch.
        """
        count = self.organizations(day).count()
        return {"id": self.pk, "name": self.name, "label": self.label, "rule": self.rule(), "organization_count": count}


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "bounce", _("Hard bounce")
    COMPLAINT = "complaint", _("Complaint")
    MANUAL = "manual", _("Manual")


class SuppressionQuerySet(models.QuerySet):
    def active(self) -> SuppressionQuerySet:
        """Return the suppressions that have not been lifted."""
        return self.filter(lifted_at__isnull=True)


class Suppression(models.Model):
    """An address we must not send to (bounced hard, complained, or suppressed by a clerk)."""

    address = models.EmailField(_("email address"), max_length=254)
    reason = models.CharField(_("reason"), max_length=20, choices=SuppressionReason.choices)
    source = models.CharField(_("source"), max_length=200, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_reason = models.TextField(_("reason for lifting"), blank=True)
    lifted_by = models.ForeignKey(
        "auth.User", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("lifted by")
    )

    objects = SuppressionQuerySet.as_manager()

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppression list")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["address"], condition=Q(lifted_at__isnull=True), name="suppression_one_active_per_address"
            ),
        ]

    def __str__(self) -> str:
        return self.address

    def lift(self, user, reason: str) -> None:
        """Lift the suppression so the address can be sent to again, keeping who lifted it and why."""
        if not reason.strip():
            raise ValueError(_("A reason is required to lift a suppression."))
        self.lifted_at, self.lifted_by, self.lifted_reason = timezone.now(), user, reason.strip()
        self.save(update_fields=["lifted_at", "lifted_by", "lifted_reason"])


# The correction loop's models live in their own module (they name these models by string).
from recipients.corrections import CorrectionItem, CorrectionRequest  # noqa: E402, F401
