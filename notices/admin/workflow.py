"""The workflow buttons of the dispatch page (submit, approve, return, issue, recall, replace) and its guards."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from notices import audit, people
from notices.admin.paging import CappedCountPaginator
from notices.models import Dispatch
from notices.models.workflow import RECALLABLE_STATUSES, WorkflowError, has_role_permission

# action: (label, permission, statuses in which the button shows, asks for a reason)
WORKFLOW_ACTIONS = {
    "submit": (_("Submit for approval"), "submit_dispatch", ["draft"], False),
    "approve": (_("Approve"), "approve_dispatch", ["submitted"], False),
    "return": (_("Return to drafter"), "approve_dispatch", ["submitted", "approved"], True),
    "issue": (_("Issue and send"), "issue_dispatch", ["approved"], False),
    "recall": (_("Recall"), "recall_dispatch", list(RECALLABLE_STATUSES), True),
    "replace": (_("Issue a replacement"), "issue_dispatch", [*RECALLABLE_STATUSES, "recalled"], False),
}


class WorkflowAdminMixin:
    """Add the workflow transitions to DispatchAdmin; every one of them goes through a model method."""

    workflow_fields = ["submitted_at", "approved_by_name", "approved_at", "return_comment", "recall_display"]
    # The dispatch list stays fast with years of dispatches: no N+1 for the notation, no full count.
    list_select_related = ["issuer", "drafting_unit"]
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        urls = [
            path(
                "<path:object_id>/workflow/<slug:action>/",
                self.admin_site.admin_view(self.workflow_view),
                name="{}_{}_workflow".format(*info),
            ),
        ]
        return urls + super().get_urls()

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.append((_("Workflow"), {"fields": self.workflow_fields}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *self.workflow_fields]

    @admin.display(description=_("approved by"))
    def approved_by_name(self, dispatch: Dispatch) -> str:
        return people.full_name(dispatch.approved_by) or "—"

    @admin.display(description=_("recall / replacement"))
    def recall_display(self, dispatch: Dispatch) -> str:
        parts = []
        if dispatch.recalled_at:
            parts.append(
                format_html(
                    "{} {}: {}",
                    _t("Recalled"),
                    localtime(dispatch.recalled_at).strftime("%d/%m/%Y %H:%M"),
                    dispatch.recall_reason,
                )
            )
        if dispatch.replaces_id:
            parts.append(format_html("{} {}", _t("Replaces"), dispatch.replaces))
        replacement = dispatch.replaced_by
        if replacement:
            parts.append(format_html("{} {}", _t("Replaced by"), replacement))
        return format_html("<br>".join(["{}"] * len(parts)), *parts) if parts else "—"

    # --- Guards ----------------------------------------------------------------------------------
    def save_model(self, request, obj: Dispatch, form, change: bool) -> None:
        obj._actor = request.user  # named in the audit event if the model refuses the change
        super().save_model(request, obj, form, change)

    def has_change_permission(self, request, obj: Dispatch | None = None) -> bool:
        if obj is not None and not obj.can_edit(request.user):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj: Dispatch | None = None) -> bool:
        if obj is not None and not obj.can_edit(request.user):
            return False
        return super().has_delete_permission(request, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Refuse and audit a POST to a dispatch the user may not change (before the admin's transaction)."""
        if request.method == "POST" and object_id:
            obj = self.get_object(request, object_id)
            if obj is not None and not obj.can_edit(request.user):
                audit.record(request.user, "refused:edit", obj, {"status": obj.status}, request=request)
                raise PermissionDenied
        extra_context = {**(extra_context or {}), "workflow_actions": self.available_actions(request, object_id)}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def available_actions(self, request, object_id) -> list[dict]:
        """Return the workflow buttons the user's role and the dispatch's status allow."""
        obj = self.get_object(request, object_id) if object_id else None
        if obj is None:
            return []
        return [
            {"name": name, "label": label, "url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_workflow", args=[obj.pk, name]), "asks_reason": asks}
            for name, (label, perm, statuses, asks) in WORKFLOW_ACTIONS.items()
            if obj.status in statuses and has_role_permission(request.user, perm)
        ]  # fmt: skip

    # --- The transitions -------------------------------------------------------------------------
    def workflow_view(self, request, object_id: str, action: str):
        """Run one transition (POST only); for return and recall first ask for the comment or reason."""
        if action not in WORKFLOW_ACTIONS:
            raise PermissionDenied
        dispatch = get_object_or_404(Dispatch, pk=object_id)
        if not self.has_view_permission(request, dispatch):
            raise PermissionDenied
        label, asks_reason = WORKFLOW_ACTIONS[action][0], WORKFLOW_ACTIONS[action][3]
        if request.method == "GET" and asks_reason:
            return self.reason_form(request, dispatch, action, label)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        target = self.run_transition(request, dispatch, action, request.POST.get("reason", ""))
        return HttpResponseRedirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[target.pk])
        )

    def run_transition(self, request, dispatch: Dispatch, action: str, reason: str) -> Dispatch:
        """Call the model method for `action`, report the outcome, and return the dispatch to show next."""
        user = request.user
        try:
            if action == "submit":
                dispatch.submit(user)
            elif action == "approve":
                dispatch.approve(user)
            elif action == "return":
                dispatch.return_to_draft(user, reason)
            elif action == "issue":
                dispatch.issue(user)
            elif action == "recall":
                count = dispatch.recall(user, reason)
                self.message_user(request, _("Recalled; %(count)d recall notices are being sent.") % {"count": count})
                return dispatch
            elif action == "replace":
                replacement = dispatch.start_replacement(user)
                self.message_user(request, _("A replacement draft was created."))
                return replacement
        except WorkflowError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return dispatch
        self.message_user(request, _("Done: %(action)s.") % {"action": WORKFLOW_ACTIONS[action][0]})
        return dispatch

    def reason_form(self, request, dispatch: Dispatch, action: str, label) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": dispatch,
            "title": f"{label}: {dispatch}",
            "action_label": label,
            "action": action,
        }
        return TemplateResponse(request, "admin/notices/dispatch/workflow_reason.html", context)
