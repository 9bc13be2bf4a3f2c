"""Audit every add, change and delete made through the admin, for every registered model."""

from __future__ import annotations

from django.contrib import admin

from notices import audit


class AuditedAdminMixin:
    """Write an audit event next to each admin log entry (in the same transaction as the change)."""

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        audit.record(request.user, "create", obj, {"message": message}, request=request)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        audit.record(request.user, "edit", obj, {"message": message}, request=request)
        return entry

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        for obj in queryset:
            audit.record(request.user, "delete", obj, request=request)
        return entries


def audit_every_model_admin(site: admin.AdminSite) -> None:
    """Give every registered ModelAdmin the audit mixin (once), whichever concern registered it."""
    for model_admin in site._registry.values():
        cls = type(model_admin)
        if not issubclass(cls, AuditedAdminMixin):
            model_admin.__class__ = type(f"Audited{cls.__name__}", (AuditedAdminMixin, cls), {})
