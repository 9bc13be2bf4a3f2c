"""The document concern in the dispatch admin: rich-text body, Word import, appendices, draft preview, secrecy."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from config import sandbox
from config.admin_mixins import ModelAdminMixinBase
from notices import rendering
from notices.docx_import import DocxImportError, docx_to_html
from notices.models import Appendix, Dispatch, DispatchStatus
from notices.sanitizing import MAX_BODY_CHARS
from notices.widgets import RichTextWidget


def preview_response(request: HttpRequest, html: str, filename: str, back: str) -> HttpResponse:
    """Return the HTML as an inline draft PDF (never stored), or go `back` saying why it could not be rendered."""
    try:  # WeasyPrint runs in a limited child process: a runaway body costs the child, not this server
        pdf = sandbox.run("notices.rendering:render_html", html)
    except sandbox.SandboxError as exc:
        messages.error(request, _t("The preview could not be rendered: %(reason)s") % {"reason": exc})
        return redirect(back)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


class DownloadLink:
    """A stored file as the file widget shows it: its link goes through the download view, never to /media/."""

    def __init__(self, field_file) -> None:
        self.url = reverse("files:appendix", args=[field_file.instance.pk])
        self.name = field_file.name.rsplit("/", 1)[-1]

    def __str__(self) -> str:
        return self.name


class ProtectedFileWidget(AdminFileWidget):
    def format_value(self, value):
        return DownloadLink(value) if self.is_initial(value) and value.instance.pk else super().format_value(value)


class AppendixInline(admin.TabularInline):
    model = Appendix
    extra = 0
    fields = ["position", "title", "file"]
    verbose_name = _("appendix (PDF)")
    formfield_overrides = {models.FileField: {"widget": ProtectedFileWidget}}
    verbose_name_plural = _("appendices (PDF)")


def imported_body_key(pk: int) -> str:
    """Return the session key under which a Word import waits for the change form."""
    return f"notices:docx-import:{pk}"  # `pk` as in the URL: an int or its text give one key


class DocxImportForm(forms.Form):
    file = forms.FileField(label=_("Word document (.docx)"))


class DocumentAdminMixin(ModelAdminMixinBase):
    """Add the document tools to DispatchAdmin: the rich-text body, the Word import, appendices, the preview."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.TextField) and db_field.name == "body":
            kwargs["widget"] = RichTextWidget()
            kwargs["max_length"] = MAX_BODY_CHARS  # refused with a form error before sanitising would raise
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_inlines(self, request, obj):
        return [*super().get_inlines(request, obj), AppendixInline]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/preview/", view(self.preview_view), name="notices_dispatch_preview"),
            path("<int:pk>/import-docx/", view(self.import_docx_view), name="notices_dispatch_import_docx"),
            *super().get_urls(),
        ]

    def get_object(self, request, object_id, from_field=None):
        """Return the dispatch; on the change form after a Word import, with the imported body (not yet saved)."""
        dispatch = super().get_object(request, object_id, from_field)
        if dispatch is not None and request.method == "GET" and request.resolver_match.url_name.endswith("_change"):
            dispatch.body = request.session.get(imported_body_key(dispatch.pk), dispatch.body)
        return dispatch

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET":
            request.session.pop(imported_body_key(object_id), None)  # the editor has it now: shown once
        return response

    # --- Draft preview and Word import ---------------------------------------------------------------
    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Return the draft rendered with the "DỰ THẢO" watermark and no number; nothing is stored."""
        dispatch = get_object_or_404(Dispatch.objects.select_related("issuer", "drafting_unit", "signer"), pk=pk)
        if not self.has_view_permission(request, dispatch):
            raise PermissionDenied
        if dispatch.number:
            messages.error(request, _t("An issued dispatch has no preview: open its stored PDF instead."))
            return redirect("admin:notices_dispatch_change", pk)
        html = render_to_string(rendering.TEMPLATE, rendering.document_context(dispatch, watermark=True))
        return preview_response(
            request, html, f"du-thao-{dispatch.pk}.pdf", reverse("admin:notices_dispatch_change", args=[pk])
        )

    def import_docx_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Replace a draft's body with the sanitised body of an uploaded Word document."""
        dispatch = get_object_or_404(Dispatch, pk=pk)
        if not self.has_change_permission(request, dispatch) or dispatch.status != DispatchStatus.DRAFT:
            raise PermissionDenied
        form = DocxImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                dispatch.body = docx_to_html(form.cleaned_data["file"])
            except DocxImportError as exc:
                form.add_error("file", _t(str(exc)))
            else:
                # Nothing is saved here: the change form opens with this body in the editor (get_object).
                request.session[imported_body_key(pk)] = dispatch.body
                messages.warning(
                    request,
                    _t("The body of the Word document is in the editor. Nothing is saved yet: check it, then save."),
                )
                return redirect("admin:notices_dispatch_change", pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _t("Import the body from Word (.docx)"),
            "form": form,
            "original": dispatch,
            "opts": self.model._meta,
            "change_url": reverse("admin:notices_dispatch_change", args=[pk]),
        }
        return TemplateResponse(request, "admin/notices/dispatch/import_docx.html", context)
