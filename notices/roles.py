"""The staff roles (Django groups) and the permissions each one holds."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

DRAFTER = "Soạn thảo"
APPROVER = "Phê duyệt"
CLERK = "Văn thư"
AUDITOR = "Kiểm toán"
ADMINISTRATOR = "Quản trị"

VIEW_ALL = [
    "view_dispatch", "view_delivery", "view_issuer", "view_draftingunit", "view_signer",
    "view_organization", "view_organizationemail", "view_recipientgroup", "view_suppression",
]  # fmt: skip
APPENDIX_EDIT = ["view_appendix", "add_appendix", "change_appendix", "delete_appendix"]  # document concern
ROLE_PERMISSIONS = {
    DRAFTER: [*VIEW_ALL, "add_dispatch", "change_dispatch", *APPENDIX_EDIT],
    APPROVER: [*VIEW_ALL],
    CLERK: [
        *VIEW_ALL,
        "change_dispatch",
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
    AUDITOR: [*VIEW_ALL],
    ADMINISTRATOR: None,  # every permission
}


def ensure_roles() -> dict[str, Group]:
    """Create or update the role groups with their permissions; return them by name."""
    groups = {}
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = Permission.objects.all() if codenames is None else Permission.objects.filter(codename__in=codenames)
        group.permissions.set(perms)
        groups[name] = group
    return groups
