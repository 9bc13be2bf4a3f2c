"""The staff roles (Django groups) and the permissions each one holds.

The workflow permissions (submit, approve, issue, recall, ...) are custom permissions on the dispatch model
(`Dispatch.Meta.permissions`, listed in `notices.models.workflow.WORKFLOW_PERMISSIONS`), which Django creates
after every migrate. The model methods check them (`Dispatch.approve()` asks `user.has_perm("notices.approve_dispatch")`), and the
admin asks the same model methods, so hiding a button is never the only guard.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from notices.models.workflow import WORKFLOW_PERMISSIONS

__all__ = ["WORKFLOW_PERMISSIONS", "ensure_roles", "permissions_filter"]

DRAFTER = "Soạn thảo"
APPROVER = "Phê duyệt"
CLERK = "Văn thư"
AUDITOR = "Kiểm toán"
ADMINISTRATOR = "Quản trị"
STEWARD = "Quản lý danh bạ"  # the directory stewards: they repair bounced addresses
COMMUNICATIONS_LEAD = "Phụ trách truyền thông"  # reads the dashboard

VIEW_ALL = [
    "view_dispatch", "view_delivery", "view_issuer", "view_draftingunit", "view_signer",
    "view_organization", "view_organizationemail", "view_recipientgroup", "view_suppression",
    "view_outgoingregister", "view_sendrecord", "view_deliveryevent", "view_dayoff",
]  # fmt: skip
APPENDIX_EDIT = ["view_appendix", "add_appendix", "change_appendix", "delete_appendix"]  # document concern
ROLE_PERMISSIONS = {
    DRAFTER: [*VIEW_ALL, "add_dispatch", "change_dispatch", "submit_dispatch", *APPENDIX_EDIT],
    APPROVER: [*VIEW_ALL, "approve_dispatch"],
    CLERK: [
        *VIEW_ALL,
        "issue_dispatch",
        "recall_dispatch",
        "schedule_dispatch",
        "send_reminders",
        "export_records",
        "add_dayoff",
        "change_dayoff",
        "delete_dayoff",
        "add_organization",
        "change_organization",
        "add_organizationemail",
        "change_organizationemail",
        "delete_organizationemail",
        "add_recipientgroup",
        "change_recipientgroup",
        "add_suppression",
        "change_suppression",
    ],  # fmt: skip
    STEWARD: [
        *VIEW_ALL,
        "change_organization",
        "add_organizationemail",
        "change_organizationemail",
        "delete_organizationemail",
        "change_suppression",
        "view_correctionitem",
        "change_correctionitem",
        "view_correctionrequest",
        "change_correctionrequest",
        "view_dashboard",
    ],  # fmt: skip
    COMMUNICATIONS_LEAD: [*VIEW_ALL, "view_dashboard", "view_correctionitem"],
    AUDITOR: ["view_*", "export_records"],  # reads everything, whichever concern added the model
    ADMINISTRATOR: None,  # every permission
}


def permissions_filter(codenames: list[str] | None) -> Q:
    """Return the filter of Permission rows for a role: None means all, "view_*" every view permission."""
    if codenames is None:
        return Q()
    wanted = Q(codename__in=[c for c in codenames if not c.endswith("*")])
    for prefix in (c[:-1] for c in codenames if c.endswith("*")):
        wanted |= Q(codename__startswith=prefix)
    return wanted


def ensure_roles() -> dict[str, Group]:
    """Create or update the role groups with their permissions; return them by name."""
    groups = {}
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(permissions_filter(codenames)))
        groups[name] = group
    return groups
