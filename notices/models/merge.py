"""Merge data of a personalised dispatch: the uploaded file and one record of fields per organisation."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notices.models.choices import DispatchStatus


class MatchKey(models.TextChoices):
    BHXH_CODE = "bhxh_code", _("BHXH unit code")
    TAX_CODE = "tax_code", _("tax code")
    AGENCY_CODE = "agency_code", _("agency code")


class MergeFileQuerySet(models.QuerySet):
    def expired(self, now: datetime.datetime | None = None) -> MergeFileQuerySet:
        """Return the files whose dispatch was issued MERGE_FILE_RETENTION_DAYS ago and that still keep their raw
        file or their merge records (kept until every copy exists)."""
        cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.MERGE_FILE_RETENTION_DAYS)
        records = MergeRecord.objects.filter(dispatch=OuterRef("dispatch"))
        kept = Q(removed_at__isnull=True) | Q(Exists(records))
        return self.filter(kept, dispatch__issued_at__lt=cutoff)


class MergeFile(models.Model):
    """The merge data file of a personalised dispatch (one per dispatch), kept under a random name."""

    dispatch = models.OneToOneField(
        "notices.Dispatch", models.CASCADE, related_name="merge_file", verbose_name=_("dispatch")
    )
    file = models.FileField(_("file"), upload_to="merge/", blank=True)
    original_name = models.CharField(_("original name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    match_key = models.CharField(_("matched by"), max_length=20, choices=MatchKey.choices)
    columns = models.JSONField(_("columns"), default=list, help_text=_("[header, field name] pairs, in order."))
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    problems = models.JSONField(_("problems found while reading"), default=list)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    removed_at = models.DateTimeField(_("file removed at"), null=True, blank=True)

    objects = MergeFileQuerySet.as_manager()

    class Meta:
        verbose_name = _("merge data file")
        verbose_name_plural = _("merge data files")

    def __str__(self) -> str:
        return self.original_name

    def remove(self) -> bool:
        """Delete the raw file's stored bytes (the retention period is over) and note when; once every targeted
        organisation has its signed copy, delete the merge records too (the copies remain the record), never
        before: a missing copy is still made from them. A recalled dispatch makes no more copies, so its records go
        with the file whatever copies it lacks. Return whether the records are gone."""
        if self.file:
            self.file.delete(save=False)
        self.removed_at = self.removed_at or timezone.now()
        with transaction.atomic():
            self.save(update_fields=["file", "removed_at"])
            dispatch = self.dispatch  # a dispatch made plain after its data was attached makes no copy from it
            copies_to_come = dispatch.personalised and dispatch.status != DispatchStatus.RECALLED
            if copies_to_come and dispatch.organizations_without_copy().exists():
                return False
            MergeRecord.objects.filter(dispatch_id=self.dispatch_id).delete()
        return True

    @property
    def records_removed(self) -> bool:
        """Return whether the retention task has deleted the merge records (every copy existed)."""
        return self.removed_at is not None and not MergeRecord.objects.filter(dispatch_id=self.dispatch_id).exists()


class MergeRecord(models.Model):
    """One organisation's fields (its first row) and table (all its rows) for a personalised dispatch."""

    dispatch = models.ForeignKey("notices.Dispatch", models.CASCADE, related_name="merge_records")
    organization = models.ForeignKey("recipients.Organization", models.PROTECT, related_name="+")
    fields = models.JSONField(default=dict)
    table = models.JSONField(default=list)
    first_row = models.PositiveIntegerField()
    row_numbers = models.JSONField(default=list)

    class Meta:
        verbose_name = _("merge record")
        verbose_name_plural = _("merge records")
        constraints = [
            models.UniqueConstraint(fields=["dispatch", "organization"], name="merge_record_one_per_organization")
        ]

    def __str__(self) -> str:
        return f"{self.dispatch_id}/{self.organization_id}"
