"""The workflow buttons of the dispatch page, read from the model's transition table, and their guards."""

from __future__ import annotations

import datetime

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

from config import second_factor
from config.admin_mixins import ModelAdminMixinBase
from notices import issuing, people, working_days
from notices.admin.paging import CappedCountPaginator
from notices.models import AuditEvent, Dispatch
from notices.models.workflow import TRANSITIONS, WorkflowError

# The transitions that ask for a recent second factor (OTP_STEP_UP_SECONDS): they send, or stop, the mail.
STEP_UP_ACTIONS = frozenset({"issue", "schedule", "recall"})


def issued_message(dispatch: Dispatch) -> str:
    """Return what issuing `dispatch` did, in words that match its secrecy (a secret one is never emailed)."""
    if dispatch.is_emailed:
        return _t("Issued %(notation)s; sending has started.") % {"notation": dispatch.notation}
    return _t("Registered %(notation)s in the secret series; it is not emailed.") % {"notation": dispatch.notation}


def scheduled_time(value: str) -> datetime.datetime:
    """Return the Hà Nội time typed in the schedule form ("2027-02-11T07:00"); refuse what is not a time."""
    try:
        naive = datetime.datetime.strptime(value.strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        raise WorkflowError(_t("Enter the date and time of the scheduled issue.")) from None
    return naive.replace(tzinfo=working_days.AGENCY_TIMEZONE)


class WorkflowAdminMixin(ModelAdminMixinBase):
    """Add the workflow transitions to DispatchAdmin; every one of them goes through a model method."""

    workflow_fields = ["submitted_at", "approved_by_name", "approved_at", "schedule_display", "return_comment",
                       "recall_display"]  # fmt: skip
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
            fieldsets.append((_("Workflow"), {"fields": tuple(self.workflow_fields)}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *self.workflow_fields]

    @admin.display(description=_("approved by"))
    def approved_by_name(self, dispatch: Dispatch) -> str:
        return people.full_name(dispatch.approved_by) or "—"

    @admin.display(description=_("scheduled issue"))
    def schedule_display(self, dispatch: Dispatch) -> str:
        if not dispatch.scheduled_for or dispatch.status != "scheduled":
            return "—"
        by = people.full_name(dispatch.scheduled_by)
        return f"{localtime(dispatch.scheduled_for).strftime('%H:%M %d/%m/%Y')} ({by})"

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

    def has_issue_permission(self, request) -> bool:
        """Return whether the user may issue (the list's issue actions ask this: `permissions=["issue"]`)."""
        return request.user.has_perm(f"notices.{TRANSITIONS['issue'].permission}")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Refuse and audit a POST to a dispatch the user may not change (before the admin's transaction)."""
        if request.method == "POST" and object_id:
            obj = self.get_object(request, object_id)
            if obj is not None and not obj.can_edit(request.user):
                AuditEvent.objects.record(request.user, "refused:edit", obj, {"status": obj.status}, request=request)
                raise PermissionDenied
        extra_context = {**(extra_context or {}), "workflow_actions": self.available_actions(request, object_id)}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def workflow_url(self, dispatch: Dispatch, action: str) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_workflow", args=[dispatch.pk, action])

    def available_actions(self, request, object_id) -> list[dict]:
        """Return the workflow buttons the dispatch's status and the user's role and relation to it allow."""
        obj = self.get_object(request, object_id) if object_id else None
        if obj is None:
            return []
        return [
            {"name": t.name, "label": t.label_for(obj), "url": self.workflow_url(obj, t.name),
             "asks": t.asks_reason or t.confirms or t.asks_time}
            for t in obj.available_transitions(request.user)
        ]  # fmt: skip

    # --- The transitions -------------------------------------------------------------------------
    def workflow_view(self, request, object_id: str, action: str):
        """Run one transition (POST only); first ask for the comment or reason, or for a confirmation."""
        if action not in TRANSITIONS:
            raise PermissionDenied
        dispatch = get_object_or_404(Dispatch, pk=object_id)
        if not self.has_view_permission(request, dispatch):
            raise PermissionDenied
        transition = TRANSITIONS[action]
        if request.method == "GET" and transition.asks_reason:
            return self.reason_form(request, dispatch, action, transition.label_for(dispatch))
        if request.method == "GET" and transition.asks_time:
            return self.schedule_form(request, dispatch, transition.label_for(dispatch))
        if request.method == "GET" and transition.confirms:
            return self.issue_confirmation(request, dispatch)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if action in STEP_UP_ACTIONS and not second_factor.is_fresh(request):
            return second_factor.ask_again(request)  # back to this page's form once passed
        target = self.run_transition(request, dispatch, action, request.POST.get("reason", ""))
        return HttpResponseRedirect(
            reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[target.pk])
        )

    def run_transition(self, request, dispatch: Dispatch, action: str, reason: str) -> Dispatch:
        """Call the model method (or the orchestration) for `action`, report the outcome, return what to show next."""
        user, label = request.user, TRANSITIONS[action].label_for(dispatch)
        try:
            if action == "submit":
                dispatch.submit(user)
            elif action == "approve":
                dispatch.approve(user)
            elif action == "return":
                dispatch.return_to_draft(user, reason)
            elif action == "schedule":
                dispatch.schedule(user, scheduled_time(request.POST.get("scheduled_for", "")))
                when = localtime(dispatch.scheduled_for).strftime("%H:%M %d/%m/%Y")
                self.message_user(request, _("Scheduled: it will be issued and sent at %(when)s.") % {"when": when})
                return dispatch
            elif action == "unschedule":
                dispatch.unschedule(user)
            elif action == "issue":
                issuing.issue(dispatch, user)
                self.message_user(request, issued_message(dispatch))
                return dispatch
            elif action == "recall":
                count = issuing.recall(dispatch, user, reason)
                self.message_user(request, _("Recalled; %(count)d recall notices are being sent.") % {"count": count})
                return dispatch
            elif action == "replace":
                replacement = dispatch.start_replacement(user)
                self.message_user(request, _("A replacement draft was created."))
                return replacement
        except WorkflowError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return dispatch
        self.message_user(request, _("Done: %(action)s.") % {"action": label})
        return dispatch

    def page_context(self, request, dispatch: Dispatch, action: str, label) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": dispatch,
            "title": f"{label}: {dispatch}",
            "action_label": label,
            "action": action,
            "action_url": self.workflow_url(dispatch, action),
        }

    def schedule_form(self, request, dispatch: Dispatch, label) -> TemplateResponse:
        """Ask when to issue: the current schedule, else 07:00 of the next working day in Hà Nội."""
        suggested = localtime(dispatch.scheduled_for) if dispatch.scheduled_for else working_days.next_working_morning()
        context = {**self.page_context(request, dispatch, "schedule", label),
                   "suggested": suggested.strftime("%Y-%m-%dT%H:%M")}  # fmt: skip
        return TemplateResponse(request, "admin/notices/dispatch/workflow_schedule.html", context)

    def reason_form(self, request, dispatch: Dispatch, action: str, label) -> TemplateResponse:
        context = self.page_context(request, dispatch, action, label)
        return TemplateResponse(request, "admin/notices/dispatch/workflow_reason.html", context)

    def issue_confirmation(self, request, dispatch: Dispatch) -> TemplateResponse:
        """Say what issuing will do: the number it takes, whom it reaches, who is suppressed, which group is empty."""
        context = {
            **self.page_context(request, dispatch, "issue", TRANSITIONS["issue"].label_for(dispatch)),
            "preview": dispatch.issue_preview(),
        }
        return TemplateResponse(request, "admin/notices/dispatch/workflow_issue.html", context)
