"""The project's admin site: every model admin registered on it is audited, whichever app registered it.

It is the default admin site (`notices.apps.AuditedAdminConfig.default_site`), so `admin.site` and
`@admin.register` everywhere, Django's own user and group admins included, use it. It lives outside the
`notices.admin` package because that package registers admins on it when imported.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from config.admin_mixins import ModelAdminMixinBase
from notices.models import AuditEvent


class AuditedAdminMixin(ModelAdminMixinBase):
    """Write an audit event next to each admin log entry (in the same transaction as the change)."""

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        AuditEvent.objects.record(request.user, "create", obj, {"message": message}, request=request)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        AuditEvent.objects.record(request.user, "edit", obj, {"message": message}, request=request)
        return entry

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        for obj in queryset:
            AuditEvent.objects.record(request.user, "delete", obj, request=request)
        return entries


class AuditedAdminSite(admin.AdminSite):
    site_header = _("Official dispatches — Hà Nội social security")
    site_title = _("Official dispatches")
    index_title = _("Administration")

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        """Register the models with `admin_class` given the audit mixin (an audit event beside each log entry)."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, AuditedAdminMixin):
            admin_class = type(f"Audited{admin_class.__name__}", (AuditedAdminMixin, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)
