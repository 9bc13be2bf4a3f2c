"""What the audit trail and the delivery timeline call things: one translated label per action, object and event.

The trail and the timeline store short codes ("submit", "sending:pause", "notices.dispatch", "provider:bounced");
people read these labels instead. A code nobody labelled yet is shown as it is, so nothing is ever hidden.
"""

from __future__ import annotations

from django.apps import apps
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from notices.models import DeliveryStatus, DispatchStatus, RecallStatus

ACTION_LABELS = {
    "create": _("Created"),
    "edit": _("Changed"),
    "delete": _("Deleted"),
    "login": _("Logged in"),
    "logout": _("Logged out"),
    "login_failed": _("Failed login"),
    "second_factor_enrolled": _("Enrolled a second-factor device"),
    "second_factor_reset": _("Reset a user's second factor"),
    "export": _("Exported a list"),
    "download": _("Downloaded a file"),
    "submit": _("Submitted for approval"),
    "approve": _("Approved"),
    "return": _("Returned to the drafter"),
    "issue": _("Issued"),
    "recall": _("Recalled"),
    "replace": _("Issued a replacement"),
    "start_replacement": _("Started a replacement"),
    "sending_started": _("Sending started"),
    "sending_finished": _("Sending finished"),
    "import_directory": _("Imported the directory"),
    "recall_notice_failed": _("A recall notice failed"),
    "pause": _("Paused sending"),
    "resume": _("Resumed sending"),
    "cancel": _("Cancelled sending"),
    "resend": _("Sent again to those not reached"),
    "test-copy": _("Sent a test copy"),
}
PREFIX_LABELS = {
    "refused": _("Refused: %(action)s"),
    "sending": _("Sending: %(action)s"),
}
DETAIL_LABELS = {
    "from": _("from"),
    "to": _("to"),
    "status": _("status"),
    "reason": _("reason"),
    "notation": _("number / notation"),
    "pdf_sha256": _("PDF SHA-256"),
    "message": _("change"),
    "outcome": _("outcome"),
    "username": _("user name"),
    "format": _("format"),
    "list": _("list"),
    "filters": _("filters"),
    "replaces": _("replaces"),
    "replacement_id": _("replacement"),
}
STATUS_DETAILS = {"from", "to", "status"}
EVENT_LABELS = {
    "acknowledged": _("Receipt acknowledged"),
}


def action_label(action: str) -> str:
    """Return the label of an audit action: "Approved" for "approve", "Refused: Approved" for "refused:approve"."""
    prefix, _sep, rest = action.partition(":")
    if rest and prefix in PREFIX_LABELS:
        return PREFIX_LABELS[prefix] % {"action": action_label(rest)}
    return str(ACTION_LABELS.get(action, action))


def object_type_label(object_type: str) -> str:
    """Return the model's verbose name for "app_label.model" ("dispatch" for "notices.dispatch")."""
    if not object_type:
        return ""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return object_type


def status_label(status: str) -> str:
    """Return the label of a delivery or recall status code ("Sent" for "sent")."""
    for choices in (DeliveryStatus, RecallStatus):
        if status in choices.values:
            return str(choices(status).label)
    return status


# What a delivery status notification read from the bounce mailbox said (notices/bounces.py): "dsn:delayed".
DSN_ACTIONS = {
    "failed": _("failed"),
    "delayed": _("delayed"),
    "delivered": _("delivered"),
    "relayed": _("relayed"),
    "expanded": _("expanded"),
}


def event_label(event_type: str) -> str:
    """Return the label of a delivery event: its status, or what the provider reported ("provider:bounced")."""
    prefix, _sep, rest = event_type.partition(":")
    if prefix == "provider" and rest:
        return _t("Provider reported: %(status)s") % {"status": status_label(rest)}
    if prefix == "dsn" and rest:
        return _t("Bounce report: %(action)s") % {"action": DSN_ACTIONS.get(rest, rest)}
    if event_type in EVENT_LABELS:
        return str(EVENT_LABELS[event_type])
    return status_label(event_type)


def dispatch_status_label(status: str) -> str:
    """Return the label of a dispatch status code, else the code."""
    return str(DispatchStatus(status).label) if status in DispatchStatus.values else str(status)


def details_label(details: dict) -> str:
    """Return an event's details as "from: Submitted; to: Approved", with labelled keys and statuses."""
    parts = []
    for key, value in (details or {}).items():
        shown = dispatch_status_label(value) if key in STATUS_DETAILS and isinstance(value, str) else value
        parts.append(f"{DETAIL_LABELS.get(key, key)}: {shown}")
    return "; ".join(parts)
