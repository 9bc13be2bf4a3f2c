"""Users and roles in the admin, with permission names in the user's language.

Django stores each permission's name in English when it creates it ("Can view email address"); the admin
would list those. Here the built-in ones are named from their action and the model's translated verbose name,
and the workflow's from the catalogue.
"""

from __future__ import annotations

from typing import Any

from axes.admin import AccessLogAdmin
from axes.models import AccessLog
from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission, User
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from config import second_factor
from config.admin_mixins import ModelAdminMixinBase
from config.second_factor import require_recent_second_factor
from notices import roles
from notices.admin.records import short_time
from notices.models import AuditEvent

BUILT_IN = {
    "add": gettext_noop("Can add %(name)s"),
    "change": gettext_noop("Can change %(name)s"),
    "delete": gettext_noop("Can delete %(name)s"),
    "view": gettext_noop("Can view %(name)s"),
}
# The workflow's permissions (notices/roles.py), named in English there like Django's own.
WORKFLOW_NAMES = [
    gettext_noop("Can submit a dispatch for approval"),
    gettext_noop("Can approve or return a dispatch"),
    gettext_noop("Can issue and send an approved dispatch"),
    gettext_noop("Can recall an issued dispatch"),
    gettext_noop("Can schedule, reschedule or unschedule the issue of an approved dispatch"),
    gettext_noop("Can remind the recipients who have not acknowledged a dispatch"),
    gettext_noop("Can edit any draft, not only their own"),
    gettext_noop("Can export the register, the send history and the audit trail"),
]


def permission_label(permission: Permission) -> str:
    """Return "Công văn | lượt gửi | Được xem lượt gửi" for notices.view_delivery, in the active language."""
    model = permission.content_type.model_class()
    action, _sep, model_name = permission.codename.partition("_")
    if model is not None and action in BUILT_IN and model_name == model._meta.model_name:
        name = _t(BUILT_IN[action]) % {"name": model._meta.verbose_name}
    else:
        name = _t(permission.name)
    app = model._meta.app_config.verbose_name if model is not None else permission.content_type.app_label
    model_label = model._meta.verbose_name if model is not None else permission.content_type.model
    return f"{app} | {model_label} | {name}"


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Permission) -> str:
        return permission_label(obj)


class TranslatedPermissionsMixin(ModelAdminMixinBase):
    """Name permissions in the user's language, in the editable widget and in the read-only list alike."""

    permissions_field = "permissions"

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name == self.permissions_field:
            kwargs["form_class"] = PermissionChoiceField
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        swap: dict[Any, str] = {self.permissions_field: "permission_names"}
        return [(name, {**opts, "fields": [swap.get(f, f) for f in opts["fields"]]}) for name, opts in fieldsets]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "permission_names"]

    @admin.display(description=_("permissions"))
    def permission_names(self, obj) -> str:
        permissions = getattr(obj, self.permissions_field).select_related("content_type")
        return format_html_join(mark_safe("<br>"), "{}", ((permission_label(p),) for p in permissions)) or "—"


class RoleAdmin(TranslatedPermissionsMixin, GroupAdmin):
    @method_decorator(require_recent_second_factor)
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Change a role's permissions only with a recent second factor."""
        return super().changeform_view(request, object_id, form_url, extra_context)


class StaffAdmin(TranslatedPermissionsMixin, UserAdmin):
    permissions_field = "user_permissions"
    actions = ["reset_second_factor"]

    def get_list_display(self, request):
        return [*super().get_list_display(request), "second_factor"]

    @admin.display(description=_("Second factor"), boolean=True)
    def second_factor(self, user: User) -> bool:
        return second_factor.has_device(user)

    @method_decorator(require_recent_second_factor)
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Change a user's roles, groups and permissions only with a recent second factor."""
        return super().changeform_view(request, object_id, form_url, extra_context)

    def has_reset_second_factor_permission(self, request) -> bool:
        user = request.user
        return user.is_superuser or user.groups.filter(name=roles.ADMINISTRATOR).exists()

    @admin.action(description=_("Reset the second factor (the user enrols again)"), permissions=["reset_second_factor"])
    @require_recent_second_factor
    def reset_second_factor(self, request, queryset) -> None:
        """Remove the selected users' devices (apps, backup codes, passkeys), each removal audited."""
        for user in queryset:
            removed = second_factor.remove_devices(user)
            AuditEvent.objects.record(request.user, "second_factor_reset", user, {"devices": removed}, request=request)
        self.message_user(request, _t("Second factor reset for %(count)d users.") % {"count": len(queryset)})


class LoginLogAdmin(AccessLogAdmin):
    """django-axes' access log, whose rows name themselves in English ("Access Log for ..."): labelled here."""

    def action_checkbox(self, obj):
        name = f"{obj.username} @ {short_time(obj.attempt_time)}"
        attrs = {"class": "action-select", "aria-label": format_html(_t("Select this object for an action - {}"), name)}
        return forms.CheckboxInput(attrs, lambda value: False).render(helpers.ACTION_CHECKBOX_NAME, str(obj.pk))


# Devices are managed from the user's own page (notices/views/second_factor.py) and reset by an administrator from
# the staff list (audited), never edited: django-otp's own device admins would show the secret keys.
for device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(device_model):
        admin.site.unregister(device_model)
if admin.site.is_registered(AccessLog):
    admin.site.unregister(AccessLog)
    admin.site.register(AccessLog, LoginLogAdmin)
for model, model_admin in [(Group, RoleAdmin), (User, StaffAdmin)]:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
