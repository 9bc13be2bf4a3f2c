"""The acknowledgement report of a dispatch (who confirmed receipt, who not, who is overdue), its export, and the
clerk's "remind those not yet acknowledged" button with its confirmation page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from config.admin_mixins import ModelAdminMixinBase
from notices import audit, exports, reminders
from notices.models import Delivery, Dispatch
from notices.models.workflow import has_role_permission
from recipients.models import OrganizationKind

KINDS = dict(OrganizationKind.choices)


def overdue_header() -> list[str]:
    return [_t("Organisation"), _t("Kind"), _t("Area"), _t("Phone"), _t("Email address"), _t("Sent at"),
            _t("Reminders")]  # fmt: skip


def overdue_rows(dispatch: Dispatch):
    """Return the rows of the organisations that have not acknowledged, for the page and the export."""
    for row in Delivery.objects.unacknowledged_organizations(dispatch).iterator(chunk_size=2000):
        yield [row["organization__name"], str(KINDS.get(row["organization__kind"], row["organization__kind"])),
               row["organization__area"], row["organization__phone"], row["address"], row["sent"], row["reminders"]]  # fmt: skip


class AcknowledgementAdminMixin(ModelAdminMixinBase):
    """Adds the acknowledgement report, its CSV/XLSX export and the reminder button to DispatchAdmin."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/acknowledgements/", view(self.acknowledgements_view), name="notices_dispatch_acknowledgements"
            ),
            path(
                "<int:pk>/acknowledgements/export/<str:fmt>/",
                view(self.acknowledgements_export_view),
                name="notices_dispatch_acknowledgements_export",
            ),  # fmt: skip
            path("<int:pk>/remind/", view(self.remind_view), name="notices_dispatch_remind"),
            *super().get_urls(),
        ]

    @admin.display(description=_("acknowledgement of receipt"))
    def acknowledgement_summary(self, dispatch: Dispatch) -> str:
        if not dispatch.number or not dispatch.is_emailed:
            return "—"
        report = Delivery.objects.acknowledgement_report(dispatch)
        url = reverse("admin:notices_dispatch_acknowledgements", args=[dispatch.pk])
        text = _t("%(acknowledged)d of %(organizations)d organisations acknowledged; %(overdue)d overdue") % {
            "acknowledged": report.acknowledged, "organizations": report.organizations, "overdue": report.overdue}  # fmt: skip
        return format_html('{} · <a href="{}">{}</a>', text, url, _t("Acknowledgement report"))

    def report_dispatch(self, request: HttpRequest, pk: int) -> Dispatch:
        dispatch = get_object_or_404(Dispatch, pk=pk)
        if not self.has_view_permission(request, dispatch):
            raise PermissionDenied
        return dispatch

    def acknowledgements_view(self, request: HttpRequest, pk: int) -> TemplateResponse:
        """Show the counts by recipient kind and area and the organisations not yet acknowledged, with phones."""
        dispatch = self.report_dispatch(request, pk)
        report = Delivery.objects.acknowledgement_report(dispatch)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": dispatch,
            "title": _t("Acknowledgement report: %(dispatch)s") % {"dispatch": dispatch},
            "report": report,
            "rows": [(str(KINDS.get(r.kind, r.kind)), r) for r in report.rows],
            "overdue_header": overdue_header(),
            "overdue": list(overdue_rows(dispatch))[:500],  # the export has them all
            "can_export": has_role_permission(request.user, "export_records"),
            "can_remind": has_role_permission(request.user, "send_reminders"),
            "remind_refusal": reminders.refusal(dispatch),
        }
        return TemplateResponse(request, "admin/notices/dispatch/acknowledgements.html", context)

    def acknowledgements_export_view(self, request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
        """Download the organisations not yet acknowledged (CSV or XLSX, cells escaped), audited."""
        dispatch = self.report_dispatch(request, pk)
        if fmt not in ("csv", "xlsx") or not has_role_permission(request.user, "export_records"):
            raise PermissionDenied
        audit.record(request.user, "export", dispatch, {"list": "acknowledgements", "format": fmt}, request=request)
        name = f"xac-nhan-{dispatch.number_display or dispatch.pk}"
        return exports.response(fmt, name, overdue_header(), overdue_rows(dispatch))

    def remind_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Confirm how many will be reminded (GET), then queue a reminder round by hand (POST)."""
        dispatch = self.report_dispatch(request, pk)
        if not has_role_permission(request.user, "send_reminders"):
            raise PermissionDenied
        refusal = reminders.refusal(dispatch)
        if request.method == "POST":
            if refusal is not None:
                self.message_user(request, str(refusal), messages.ERROR)
            else:
                count = reminders.queue_round(dispatch, request.user)
                self.message_user(request, _t("%(count)d reminders are being sent.") % {"count": count})
            return HttpResponseRedirect(reverse("admin:notices_dispatch_acknowledgements", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": dispatch,
            "title": _t("Remind those who have not acknowledged: %(dispatch)s") % {"dispatch": dispatch},
            "count": reminders.to_remind(dispatch).count(),
            "organizations": reminders.to_remind(dispatch).values("organization_id").distinct().count(),
            "refusal": refusal,
        }
        return TemplateResponse(request, "admin/notices/dispatch/remind.html", context)
