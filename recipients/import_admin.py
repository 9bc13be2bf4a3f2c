"""The directory's import (upload, preview, confirm), export and template download in the organisation admin."""

from __future__ import annotations

import datetime
import uuid
from pathlib import PurePath

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config import sandbox
from config.admin_mixins import ModelAdminMixinBase
from recipients.columns import COLUMNS
from recipients.exporting import export_directory, template_xlsx
from recipients.importing import import_rows
from recipients.models import OrganizationKind
from recipients.tabular import ImportFileError, Limits

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
PENDING_DIR = "imports/pending"
PENDING_MAX_AGE = 3600  # seconds a preview can be confirmed
TOKEN_SALT = "directory-import"
EXPORT_PERMISSION = "notices.export_records"  # the clerks' and auditors' right to take data out (notices.roles)
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def discard_stale_uploads() -> None:
    """Delete the files of previews nobody confirmed within PENDING_MAX_AGE."""
    try:
        _dirs, files = default_storage.listdir(PENDING_DIR)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - datetime.timedelta(seconds=PENDING_MAX_AGE)
    for name in files:
        path = f"{PENDING_DIR}/{name}"
        if default_storage.get_modified_time(path) < cutoff:
            default_storage.delete(path)


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV or XLSX file"))
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of rows without one"),
        choices=[("", "—"), *OrganizationKind.choices],
        required=False,
    )
    group = forms.CharField(
        label=gettext_lazy("Add every imported organisation to the group"), max_length=200, required=False
    )
    valid_only = forms.BooleanField(
        label=gettext_lazy("Import the valid rows even if other rows have errors"), required=False
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 50 MB; split it into several files."))
        if PurePath(upload.name).suffix.lower() not in (".csv", ".txt", ".xlsx"):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload


class DirectoryImportAdminMixin(ModelAdminMixinBase):
    """Adds import, export and the template file to the organisation admin."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="recipients_organization_import"),
            path("import/template.xlsx", view(self.template_view), name="recipients_organization_import_template"),
            path("export/<str:fmt>/", view(self.export_view), name="recipients_organization_export"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Show the upload form; on upload, preview without writing; on confirm, import for real."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        if request.method == "POST" and "confirm" in request.POST:
            return self.confirm_import(request)
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            return self.preview_import(request, form)
        return self.render_import(request, {"form": form})

    def preview_import(self, request: HttpRequest, form: ImportForm) -> HttpResponse:
        """Check the whole file without writing, keep it aside, and show what confirming would do."""
        upload, options = form.cleaned_data["file"], self.import_options(form.cleaned_data)
        data = upload.read()
        try:
            summary = import_rows(read_upload(data, upload.name), upload.name, dry_run=True, **options)
        except ImportFileError as exc:
            form.add_error("file", str(exc))
            return self.render_import(request, {"form": form})
        context = {
            "summary": summary,
            "filename": upload.name,
            "can_write": options["valid_only"] or not summary.errors,
        }
        if context["can_write"]:
            discard_stale_uploads()
            name = f"{PENDING_DIR}/{uuid.uuid4().hex}{PurePath(upload.name).suffix}"
            stored = default_storage.save(name, ContentFile(data))
            context["token"] = signing.dumps({"path": stored, "name": upload.name, **options}, salt=TOKEN_SALT)
        return self.render_import(request, context)

    def confirm_import(self, request: HttpRequest) -> HttpResponse:
        """Import the file kept aside at preview (the signed token says which, with its options)."""
        try:
            job = signing.loads(request.POST["confirm"], salt=TOKEN_SALT, max_age=PENDING_MAX_AGE)
        except signing.BadSignature:
            messages.error(request, _("The preview has expired; upload the file again."))
            return redirect("admin:recipients_organization_import")
        stored = job.pop("path")
        try:
            with default_storage.open(stored, "rb") as handle:
                data = handle.read()
            name = job.pop("name")
            summary = import_rows(read_upload(data, name), name, user=request.user, **job)
        except (OSError, ImportFileError) as exc:
            messages.error(request, str(exc))
            return redirect("admin:recipients_organization_import")
        default_storage.delete(stored)
        self.report_import(request, summary)
        return redirect("admin:recipients_organization_changelist")

    def report_import(self, request: HttpRequest, summary) -> None:
        counts = {"created": summary.created, "updated": summary.updated, "unchanged": summary.unchanged}
        if summary.written:
            message = _("Imported: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.") % counts
            messages.success(request, message)
            if summary.errors:
                messages.warning(request, _("%(count)d rows with errors were skipped.") % {"count": summary.error_rows})
        else:
            messages.error(
                request, _("Nothing was imported: %(count)d rows have errors.") % {"count": summary.error_rows}
            )

    def import_options(self, data: dict) -> dict:
        return {"default_kind": data["kind"], "group_name": data["group"].strip(), "valid_only": data["valid_only"]}

    def render_import(self, request: HttpRequest, context: dict) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import organisations"),
            "columns": COLUMNS,
            **context,
        }
        return TemplateResponse(request, "admin/recipients/organization/import.html", context)

    def template_view(self, request: HttpRequest) -> HttpResponse:
        """Download the import template (columns, an example row and a sheet describing the columns)."""
        return self.download(template_xlsx(), "mau-danh-ba.xlsx", "xlsx")

    def export_view(self, request: HttpRequest, fmt: str) -> HttpResponse:
        """Download the organisations shown by the change list's current filters and search, as CSV or XLSX."""
        if fmt not in CONTENT_TYPES or not self.has_export_permission(request):
            raise PermissionDenied
        queryset = self.get_changelist_instance(request).get_queryset(request)
        name = f"danh-ba-{timezone.localdate():%Y%m%d}.{fmt}"
        return self.download(export_directory(queryset, fmt), name, fmt)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.has_perm(EXPORT_PERMISSION)

    def download(self, data: bytes, filename: str, fmt: str) -> HttpResponse:
        response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "export_query": request.GET.urlencode(),
            "has_export_permission": self.has_export_permission(request),
        }
        return super().changelist_view(request, extra_context)


def read_upload(data: bytes, name: str) -> list[list]:
    """Return the upload's rows, parsed in the sandbox: a hostile workbook costs a child process, never the server."""
    try:
        return sandbox.run("recipients.tabular:parse_table", data, name, Limits.from_settings())
    except sandbox.SandboxError as exc:
        raise ImportFileError(str(exc)) from exc
