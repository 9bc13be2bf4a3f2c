"""Users and roles in the admin, with permission names in the user's language.

Django stores each permission's name in English when it creates it ("Can view email address"); the admin
would list those. Here the built-in ones are named from their action and the model's translated verbose name,
and the workflow's from the catalogue.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission, User
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_noop

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


class TranslatedPermissionsMixin:
    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "user_permissions" or db_field.name == "permissions":
            kwargs["form_class"] = PermissionChoiceField
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class RoleAdmin(TranslatedPermissionsMixin, GroupAdmin):
    pass


class StaffAdmin(TranslatedPermissionsMixin, UserAdmin):
    pass


for model, model_admin in [(Group, RoleAdmin), (User, StaffAdmin)]:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
