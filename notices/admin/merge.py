"""The merge data of a personalised dispatch in its admin: upload, the report with row numbers, a copy's preview."""

from __future__ import annotations

import random

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from config.admin_mixins import ModelAdminMixinBase
from notices import merge_data, personalising, rendering, templating
from notices.admin.document import preview_response
from notices.models import Dispatch, DispatchStatus, MatchKey, MergeFile, MergeRecord
from notices.models.merge_report import merge_report
from notices.views.files import may_see_merge_data
from recipients.tabular import ImportFileError

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class MergeUploadForm(forms.Form):
    file = forms.FileField(label=_("Merge data (CSV or XLSX)"))
    match_key = forms.ChoiceField(label=_("Match organisations by"), choices=MatchKey.choices)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_t("The file is larger than 50 MB; split it into several files."))
        return upload


class MergeAdminMixin(ModelAdminMixinBase):
    """Add the merge data page and the personal preview to DispatchAdmin."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/merge/", view(self.merge_view), name="notices_dispatch_merge"),
            path(
                "<int:pk>/merge/preview/<int:org>/",
                view(self.merge_preview_view),
                name="notices_dispatch_merge_preview",
            ),
            *super().get_urls(),
        ]

    def merge_dispatch(self, request: HttpRequest, pk: int) -> Dispatch:
        dispatch = get_object_or_404(Dispatch.objects.select_related("issuer", "drafting_unit", "signer"), pk=pk)
        if not dispatch.personalised or not may_see_merge_data(request.user, dispatch):
            raise PermissionDenied
        return dispatch

    def merge_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Show the merge file, its report and the copies to preview; on a draft, take a new file."""
        dispatch = self.merge_dispatch(request, pk)
        may_upload = dispatch.status == DispatchStatus.DRAFT and dispatch.can_edit(request.user)
        form = MergeUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST":
            if not may_upload:
                raise PermissionDenied
            if form.is_valid():
                upload = form.cleaned_data["file"]
                try:
                    merge_data.attach(
                        dispatch, upload.read(), upload.name, form.cleaned_data["match_key"], request.user
                    )
                except ImportFileError as exc:
                    form.add_error("file", str(exc))
                else:
                    messages.success(request, _t("The merge data was read."))
                    return redirect("admin:notices_dispatch_merge", pk)
        records = MergeRecord.objects.filter(dispatch=dispatch).select_related("organization").order_by("first_row")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": dispatch,
            "title": _t("Merge data: %(dispatch)s") % {"dispatch": dispatch},
            "merge_file": MergeFile.objects.filter(dispatch=dispatch).first(),
            "report": merge_report(dispatch),
            "form": form if may_upload else None,
            "records": records[:500],
        }
        return TemplateResponse(request, "admin/notices/dispatch/merge.html", context)

    def merge_preview_view(self, request: HttpRequest, pk: int, org: int) -> HttpResponse:
        """Return one organisation's copy as a draft PDF ("DỰ THẢO", no number); nothing is stored."""
        dispatch = self.merge_dispatch(request, pk)
        record = get_object_or_404(
            MergeRecord.objects.select_related("organization"), dispatch=dispatch, organization_id=org
        )
        back = reverse("admin:notices_dispatch_merge", args=[pk])
        try:
            text = personalising.text_for_record(dispatch, record, record.organization)
        except templating.TemplateRefused as exc:
            messages.error(request, _t("The preview could not be rendered: %(reason)s") % {"reason": exc})
            return redirect(back)
        # Printed exactly as the issued copy will be (notices/copies.py), without its codes: a draft has none.
        own = rendering.CopyText(text.subject, text.addressee_lines, text.body_html, "", "")
        html = render_to_string(rendering.TEMPLATE, rendering.document_context(dispatch, watermark=True, copy=own))
        return preview_response(request, html, f"du-thao-{dispatch.pk}-{org}.pdf", back)

    # --- The approval confirmation: three copies picked at random, with the counts ----------------------
    def workflow_view(self, request, object_id: str, action: str):
        dispatch = get_object_or_404(Dispatch, pk=object_id) if action == "approve" else None
        if request.method == "GET" and dispatch is not None and dispatch.personalised:
            return self.approval_confirmation(request, dispatch)
        return super().workflow_view(request, object_id, action)  # type: ignore[misc]

    def available_actions(self, request, object_id) -> list[dict]:
        actions = super().available_actions(request, object_id)  # type: ignore[misc]
        dispatch = self.get_object(request, object_id) if object_id else None
        if dispatch is None or not dispatch.personalised:
            return actions
        for action in actions:
            action["asks"] = action["asks"] or action["name"] == "approve"
        return actions

    def approval_confirmation(self, request: HttpRequest, dispatch: Dispatch) -> HttpResponse:
        """Show three organisations' copies picked at random and the counts before the approver approves."""
        if not may_see_merge_data(request.user, dispatch):
            raise PermissionDenied
        report = merge_report(dispatch)
        ids = list(MergeRecord.objects.filter(dispatch=dispatch).values_list("pk", flat=True))
        picked = MergeRecord.objects.filter(pk__in=random.sample(ids, min(3, len(ids)))).select_related("organization")
        samples: list[tuple[MergeRecord, object]] = []
        for record in picked:
            try:
                samples.append((record, personalising.text_for_record(dispatch, record, record.organization)))
            except templating.TemplateRefused as exc:
                samples.append((record, str(exc)))
        context = {
            **self.page_context(request, dispatch, "approve", _t("Approve")),  # type: ignore[attr-defined]
            "report": report,
            "samples": samples,
        }
        return TemplateResponse(request, "admin/notices/dispatch/workflow_approve.html", context)
