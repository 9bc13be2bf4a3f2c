"""API keys and their callbacks in the admin: an administrator creates a key (shown once), revokes it, and sees
every callback with its outcome.

Creating or changing a key (its scopes, account, allowed addresses, expiry) asks for a recent second factor
(`config.second_factor.require_recent_second_factor` on `changeform_view`); revoking one never waits for it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _

from api.models import ApiKey, Callback, Scope, validate_networks
from config.second_factor import require_recent_second_factor
from notices.models import AuditEvent


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(label=_("scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple)
    allowed_ips = forms.CharField(label=_("allowed IP addresses"), required=False,
                                  help_text=_("Addresses or networks separated by commas; empty: any."))  # fmt: skip

    class Meta:
        model = ApiKey
        fields = ["name", "user", "scopes", "allowed_ips", "expires_at", "rate_per_second", "callback_url"]

    callback_url = forms.URLField(label=_("status callback URL"), required=False, max_length=500, assume_scheme="https")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["allowed_ips"] = ", ".join(self.instance.allowed_ips)

    def clean_allowed_ips(self) -> list[str]:
        values = [v.strip() for v in self.cleaned_data["allowed_ips"].replace(";", ",").split(",") if v.strip()]
        validate_networks(values)
        return values


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["name", "prefix", "user", "scope_list", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = ["prefix", "revoked_at", "last_used_at", "created_at"]
    actions = ["revoke"]

    @method_decorator(require_recent_second_factor)
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Create or change a key only with a recent second factor."""
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def save_model(self, request, obj: ApiKey, form, change: bool) -> None:
        if not change:
            request._new_api_key = obj.new_key()  # shown once by response_add, never stored
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj: ApiKey, post_url_continue=None):
        """Show the new key once: only its hash is kept."""
        context = {**self.admin_site.each_context(request), "key": request._new_api_key, "api_key": obj,
                   "opts": self.model._meta, "title": _("The key of %(name)s") % {"name": obj.name}}  # fmt: skip
        response = TemplateResponse(request, "admin/api/apikey/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset) -> None:
        for key in queryset.filter(revoked_at__isnull=True):
            key.revoke()
            AuditEvent.objects.record(request.user, "api_key:revoke", key, {"at": timezone.now()}, request=request)
        messages.success(request, _("The keys were revoked."))


@admin.register(Callback)
class CallbackAdmin(admin.ModelAdmin):
    list_display = ["id", "key", "event_id", "status", "attempts", "last_error", "created_at", "finished_at"]
    list_filter = ["status", "key"]
    readonly_fields = [
        "id",
        "key",
        "event_id",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "finished_at",
        "payload",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
