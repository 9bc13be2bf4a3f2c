"""The operator's sending controls on the dispatch page: pause, resume, cancel, resend, test copy, live progress."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext as _

from config.admin_mixins import ModelAdminMixinBase
from notices import audit
from notices.models import Dispatch
from notices.models.workflow import WorkflowError


def can_control_sending(user) -> bool:
    """Return whether the user may pause, resume, cancel or resend: who may issue (records clerks, administrators)."""
    return user.is_active and user.has_perm("notices.issue_dispatch")


class SendingAdminMixin(ModelAdminMixinBase):
    """Adds the sending controls and the live progress endpoint to DispatchAdmin."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/sending/progress/", view(self.sending_progress_view), name="notices_dispatch_progress"),
            path("<int:pk>/sending/<str:action>/", view(self.sending_control_view), name="notices_dispatch_sending"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_control_sending": can_control_sending(request.user)}
        return super().change_view(request, object_id, form_url, extra_context)

    def sending_progress_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        dispatch = get_object_or_404(Dispatch, pk=pk)
        if not self.has_view_permission(request, dispatch):
            raise PermissionDenied
        return JsonResponse(dispatch.progress())

    def sending_control_view(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        dispatch = get_object_or_404(Dispatch, pk=pk)
        if not can_control_sending(request.user):
            raise PermissionDenied
        control = getattr(self, f"sending_{action.replace('-', '_')}", None)
        if action not in SENDING_ACTIONS or control is None:
            raise PermissionDenied
        try:
            level, text = control(request, dispatch)
        except WorkflowError as refused:
            level, text = messages.ERROR, str(refused)
        audit.record(request.user, f"sending:{action}", dispatch, {"outcome": str(text)}, request=request)
        self.message_user(request, text, level)
        return HttpResponseRedirect(reverse("admin:notices_dispatch_change", args=[pk]))

    def sending_pause(self, request, dispatch: Dispatch) -> tuple[int, str]:
        if dispatch.pause():
            return messages.SUCCESS, _("Sending is paused. Messages already handed to the mail server stay sent.")
        return messages.WARNING, _("Only a dispatch that is sending can be paused.")

    def sending_resume(self, request, dispatch: Dispatch) -> tuple[int, str]:
        if dispatch.sending_paused_at is None:
            return messages.WARNING, _("This dispatch is not paused.")
        count = dispatch.resume()
        return messages.SUCCESS, _("Sending resumed: %(count)d deliveries queued again.") % {"count": count}

    def sending_cancel(self, request, dispatch: Dispatch) -> tuple[int, str]:
        count = dispatch.cancel()
        return messages.SUCCESS, _("%(count)d deliveries not yet sent were cancelled.") % {"count": count}

    def sending_resend(self, request, dispatch: Dispatch) -> tuple[int, str]:
        count = dispatch.resend_undelivered()
        if not count:
            return messages.WARNING, _("There is no failed or cancelled delivery to send again.")
        return messages.SUCCESS, _("%(count)d deliveries that were not delivered are queued again.") % {"count": count}

    def sending_test_copy(self, request, dispatch: Dispatch) -> tuple[int, str]:
        if not dispatch.is_emailed or not dispatch.pdf:
            return messages.ERROR, _("A test copy needs an issued dispatch that is not secret.")
        if not request.user.email:
            return messages.ERROR, _("Your account has no email address for the test copy.")
        dispatch.queue_test_copy(request.user.email)
        return messages.SUCCESS, _("A test copy marked TEST is on its way to %(address)s.") % {
            "address": request.user.email
        }


SENDING_ACTIONS = {"pause", "resume", "cancel", "resend", "test-copy"}
