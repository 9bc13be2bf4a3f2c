"""Audit receivers for system events sent by other concerns, and the guard on an issued dispatch's recipients."""

from __future__ import annotations

from django.utils.translation import gettext as _

from notices.models import AuditEvent


def on_sending_started(sender, dispatch, **kwargs) -> None:
    AuditEvent.objects.record(None, "sending_started", dispatch)


def on_sending_finished(sender, dispatch, **kwargs) -> None:
    dispatch.refresh_from_db(fields=["status"])
    AuditEvent.objects.record(None, "sending_finished", dispatch, {"status": dispatch.status})


def on_directory_imported(sender, user, summary, filename: str, **kwargs) -> None:
    details = {"file": filename, "created": summary.created, "updated": summary.updated,
               "unchanged": summary.unchanged, "error_rows": summary.error_rows}  # fmt: skip
    AuditEvent.objects.record(user, "import_directory", None, details)


def guard_frozen_recipients(sender, instance, action: str, reverse: bool, **kwargs) -> None:
    """Refuse (and audit) a change to the groups or organisations of an issued dispatch."""
    if reverse or not action.startswith("pre_") or not getattr(instance, "is_frozen", False):
        return
    instance.refuse(
        getattr(instance, "_actor", None), "edit", _("An issued dispatch cannot be changed (tried: recipients).")
    )
