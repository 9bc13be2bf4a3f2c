"""The directory stewards' correction items: what bounced, what it missed, the links sent, the answers to decide.

Registered here, beside the deliveries, because an item's page shows the dispatches its address missed and its
actions call `notices.corrections` (the directory app may not know the sending side).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config import second_factor
from notices import corrections
from recipients import correcting
from recipients.corrections import CorrectionItem, CorrectionRequest

ACTIONS = {"send-link", "print-link", "approve", "reject", "resend"}
STEP_UP_ACTIONS = {"approve"}  # changes the directory and lifts the address's suppressions: a fresh second factor


def can_correct(user) -> bool:
    """Return whether the user may act on correction items (the directory stewards, administrators)."""
    return user.is_active and user.has_perm("recipients.change_correctionitem")


@admin.register(CorrectionItem)
class CorrectionItemAdmin(admin.ModelAdmin):
    list_display = ["organization", "address", "reason", "since_display", "missed_display", "status"]
    list_filter = ["status", "reason"]
    search_fields = ["address", "organization__name"]
    list_select_related = ["organization"]
    readonly_fields = ("organization", "address", "reason", "detail", "since", "status", "corrected_address",
                       "resolved_at", "resolved_by", "resent_at")  # fmt: skip
    fields = readonly_fields

    def get_queryset(self, request):
        return corrections.with_missed(super().get_queryset(request))

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=gettext_lazy("failing since"), ordering="since")
    def since_display(self, item: CorrectionItem) -> str:
        return f"{item.since:%d/%m/%Y}"

    @admin.display(description=gettext_lazy("missed dispatches"), ordering="missed")
    def missed_display(self, item: CorrectionItem) -> int:
        return item.missed  # type: ignore[attr-defined]

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/act/<str:action>/", view(self.act_view), name="recipients_correctionitem_act"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        item = self.get_object(request, object_id)
        extra = {}
        if item is not None:
            extra = {"can_correct": can_correct(request.user), "item_requests": item.requests.all(),
                     "missed": corrections.missed_deliveries(item).select_related("dispatch").order_by("-created_at"),
                     "current": item.organization.emails.order_by("-primary", "address"),
                     "other_addresses": correcting.other_addresses(item)}  # fmt: skip
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def act_view(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        item = get_object_or_404(CorrectionItem, pk=pk)
        if action not in ACTIONS or not can_correct(request.user):
            raise PermissionDenied
        if action in STEP_UP_ACTIONS and not second_factor.is_fresh(request):
            return second_factor.ask_again(request, reverse("admin:recipients_correctionitem_change", args=[pk]))
        try:
            response = self.act(request, item, action)
        except corrections.CorrectionRefused as refused:
            self.message_user(request, str(refused), messages.ERROR)
            response = None
        return response or HttpResponseRedirect(reverse("admin:recipients_correctionitem_change", args=[pk]))

    def act(self, request: HttpRequest, item: CorrectionItem, action: str) -> HttpResponse | None:
        """Do one steward's action; return a page to show, or None to go back to the item."""
        if action == "print-link":
            answer, url = corrections.print_link(item, request.user)
            context = {**self.admin_site.each_context(request), "item": item, "url": url, "answer": answer,
                       "title": _("Correction link to read out")}  # fmt: skip
            return TemplateResponse(request, "admin/recipients/correctionitem/printed_link.html", context)
        if action == "send-link":
            _answer, addresses = corrections.send_link(item, request.user)
            self.message_user(request, _("The link was emailed to %(to)s.") % {"to": ", ".join(addresses)})
        elif action in ("approve", "reject"):
            answer = get_object_or_404(CorrectionRequest, pk=request.POST.get("request"), item=item)
            if action == "approve":
                applied = corrections.approve(answer, request.user)
                self.message_user(
                    request, _("The directory now has %(addresses)s.") % {"addresses": ", ".join(applied.after)}
                )
            else:
                corrections.reject(answer, request.user)
                self.message_user(request, _("The answer was rejected; the directory is unchanged."))
        else:
            queued = corrections.resend_missed(item, request.user)
            self.message_user(request, _("%(count)d missed dispatches are queued to %(address)s.")
                              % {"count": len(queued), "address": item.corrected_address})  # fmt: skip
        return None
