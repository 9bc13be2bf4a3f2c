from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import m2m_changed, post_migrate
from django.utils.translation import gettext_lazy as _


def ensure_roles_after_migrate(**kwargs) -> None:
    """Keep the role groups in step with the permissions after every migrate (and test-database flush)."""
    from notices import roles

    roles.ensure_roles()


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = _("Official dispatches")

    def ready(self) -> None:
        from django.contrib.auth import signals as auth_signals

        from notices import login, receivers, signals, tracking  # noqa: F401  (tracking connects anymail's receiver)
        from notices.models import Dispatch
        from recipients.signals import directory_imported

        auth_signals.user_logged_in.connect(login.on_login, dispatch_uid="audit_login")
        auth_signals.user_logged_out.connect(login.on_logout, dispatch_uid="audit_logout")
        auth_signals.user_login_failed.connect(login.on_login_failed, dispatch_uid="audit_login_failed")
        signals.sending_started.connect(receivers.on_sending_started, dispatch_uid="audit_sending_started")
        signals.sending_finished.connect(receivers.on_sending_finished, dispatch_uid="audit_sending_finished")
        directory_imported.connect(receivers.on_directory_imported, dispatch_uid="audit_directory_imported")
        for through in (Dispatch.groups.through, Dispatch.organizations.through):
            m2m_changed.connect(receivers.guard_frozen_recipients, sender=through, dispatch_uid=f"frozen_{through}")
        post_migrate.connect(ensure_roles_after_migrate, sender=self, dispatch_uid="ensure_roles")


class AuditedAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the project's site as the default one (listed in INSTALLED_APPS instead)."""

    default = False  # "notices" in INSTALLED_APPS still means NoticesConfig
    default_site = "notices.admin_site.AuditedAdminSite"
