from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from notices import people
from notices.admin.acknowledgements import AcknowledgementAdminMixin
from notices.admin.deliveries import deliveries_url
from notices.admin.document import DocumentAdminMixin
from notices.admin.merge import MergeAdminMixin
from notices.admin.records import FoldedSearchMixin
from notices.admin.sending import SendingAdminMixin
from notices.admin.workflow import WorkflowAdminMixin, issued_message
from notices.issuing import issue
from notices.models import DeliveryStatus, Dispatch, DispatchStatus
from notices.models.workflow import WorkflowError
from notices.sanitizing import sanitize_body


@admin.register(Dispatch)
class DispatchAdmin(
    MergeAdminMixin, WorkflowAdminMixin, SendingAdminMixin, AcknowledgementAdminMixin, DocumentAdminMixin,
    FoldedSearchMixin, admin.ModelAdmin,
):  # fmt: skip
    list_display = ["__str__", "status", "urgency", "drafting_unit", "issued_at", "created_at"]
    list_filter = ["status", "urgency", "secrecy", "drafting_unit"]
    search_fields = ["subject"]
    folded_search_fields = ["search_subject"]  # "ba dinh" finds "Ba Đình"
    autocomplete_fields = ["groups", "organizations"]
    actions = ["issue_and_send", "register_secret"]
    readonly_fields = [
        "status", "notation_display", "issued_at", "issued_by_name", "pdf_download", "pdf_sha256", "edxml_download", "delivery_summary", "acknowledgement_summary", "body_display",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["issuer", "drafting_unit", "signer", "subject", "urgency", "secrecy", "acknowledge_by"]}),
        (_("Recipients"), {"fields": ["groups", "organizations", "addressees", "extra_distribution"]}),
        (_("Content"), {"fields": ["personalised", "body"]}),
        (
            _("Register"),
            {
                "fields": [
                    "status",
                    "notation_display",
                    "issued_at",
                    "issued_by_name",
                    "pdf_download",
                    "pdf_sha256",
                    "edxml_download",
                ]
            },
        ),
        (_("Deliveries"), {"fields": ["delivery_summary", "acknowledgement_summary"]}),
    ]

    def save_model(self, request, obj: Dispatch, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_fieldsets(self, request, obj: Dispatch | None = None):
        """Show the body as formatted text, not HTML source, where the dispatch cannot be edited."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        swap = {"body": "body_display"}
        return [(name, {**opts, "fields": [swap.get(f, f) for f in opts["fields"]]}) for name, opts in fieldsets]

    @admin.display(description=_("body"))
    def body_display(self, dispatch: Dispatch) -> str:
        return mark_safe(sanitize_body(dispatch.body))  # noqa: S308  (sanitised to the allow-list again here)

    @admin.display(description=_("PDF"))
    def pdf_download(self, dispatch: Dispatch) -> str:
        """Link the stored PDF through the download view that checks the role and audits (never /media/)."""
        if not dispatch.pdf:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("files:dispatch_pdf", args=[dispatch.pk]), _("Download"))

    @admin.display(description=_("edXML package"))
    def edxml_download(self, dispatch: Dispatch) -> str:
        """Link the signed edXML package (QCVN 102:2016) of an issued dispatch that is not secret."""
        if not dispatch.number or dispatch.is_secret:
            return "—"
        recalled = dispatch.status == DispatchStatus.RECALLED
        label = _("Download the edXML revoke package") if recalled else _("Download the edXML package")
        return format_html('<a href="{}">{}</a>', reverse("files:dispatch_edxml", args=[dispatch.pk]), label)

    @admin.display(description=_("issued by"))
    def issued_by_name(self, dispatch: Dispatch) -> str:
        return people.full_name(dispatch.issued_by) or "—"

    @admin.display(description=_("number / notation"))
    def notation_display(self, dispatch: Dispatch) -> str:
        return dispatch.notation or "—"

    @admin.display(description=_("deliveries by status"))
    def delivery_summary(self, dispatch: Dispatch) -> str:
        counts = dispatch.deliveries.count_by_status()
        if not counts:
            return "—"
        url = deliveries_url(dispatch__id__exact=dispatch.pk)
        labels = dict(DeliveryStatus.choices)
        rows = format_html_join("", "<li>{}: <strong>{}</strong></li>", ((labels[c["status"]], c["n"]) for c in counts))
        chart = reverse("dispatch_chart", args=[dispatch.pk])  # notices.views.dashboard: server-made SVG
        return format_html(
            '<ul class="delivery-summary">{}</ul><a href="{}">{}</a><br><img class="dispatch-chart" src="{}" alt="{}" '
            'width="560" height="200">',
            rows, url, _("List the deliveries"), chart, _("Deliveries and acknowledgements over time"),
        )  # fmt: skip

    # --- Issuing from the list: the same rule and the same words as the dispatch page's button ------------
    @admin.action(description=_("Issue and send"), permissions=["issue"])
    def issue_and_send(self, request, queryset) -> None:
        """Issue and email the selected dispatches; refuse the secret ones (never emailed) with the reason."""
        for dispatch in queryset:
            if dispatch.is_emailed:
                self.issue_one(request, dispatch)
                continue
            self.message_user(
                request,
                _("%(dispatch)s is marked %(secrecy)s: secret documents are never sent by email. "
                  "It was not issued; use “Register a secret dispatch” to number it.")
                % {"dispatch": dispatch, "secrecy": dispatch.get_secrecy_display()},
                messages.ERROR,
            )  # fmt: skip

    @admin.action(description=_("Register a secret dispatch (never emailed)"), permissions=["issue"])
    def register_secret(self, request, queryset) -> None:
        """Number the selected secret dispatches in the secret series without emailing them."""
        for dispatch in queryset:
            if not dispatch.is_emailed:
                self.issue_one(request, dispatch)
                continue
            self.message_user(
                request, _("%(dispatch)s is not secret: use “Issue and send”.") % {"dispatch": dispatch},
                messages.WARNING,
            )  # fmt: skip

    def issue_one(self, request, dispatch: Dispatch) -> None:
        """Issue one dispatch and tell the user the outcome (the model refuses what is not allowed)."""
        try:
            issue(dispatch, request.user)
        except WorkflowError as exc:
            self.message_user(request, f"{dispatch}: {exc}", messages.ERROR)
        else:
            self.message_user(request, issued_message(dispatch))
