"""The five roles are groups holding the workflow permissions that Dispatch.Meta declares."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from notices import roles
from notices.models import Dispatch
from notices.models.workflow import TRANSITIONS, WORKFLOW_PERMISSIONS

pytestmark = pytest.mark.django_db


def test_the_workflow_permissions_are_declared_on_the_model_and_exist_after_migrate():
    assert Dispatch._meta.permissions == WORKFLOW_PERMISSIONS
    stored = set(Permission.objects.filter(content_type__app_label="notices").values_list("codename", flat=True))
    assert {codename for codename, _ in WORKFLOW_PERMISSIONS} <= stored


def test_every_transition_needs_a_declared_permission():
    declared = {codename for codename, _ in WORKFLOW_PERMISSIONS}
    assert {transition.permission for transition in TRANSITIONS.values()} <= declared


def test_the_migrated_roles_hold_their_workflow_permissions():
    def codenames(role: str) -> set[str]:
        return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))

    assert {"submit_dispatch", "add_dispatch"} <= codenames(roles.DRAFTER)
    assert "approve_dispatch" in codenames(roles.APPROVER) and "issue_dispatch" not in codenames(roles.APPROVER)
    assert {"issue_dispatch", "recall_dispatch", "export_records"} <= codenames(roles.CLERK)
    assert "export_records" in codenames(roles.AUDITOR) and "change_dispatch" not in codenames(roles.AUDITOR)
    assert codenames(roles.ADMINISTRATOR) >= {codename for codename, _ in WORKFLOW_PERMISSIONS}


def test_the_auditor_reads_every_model_and_changes_none(auditor):
    from django.contrib.auth.models import Permission

    perms = set(auditor.get_all_permissions())
    assert {
        f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.filter(codename__startswith="view_")
    } <= perms
    assert not [p for p in perms if p.split(".")[1].startswith(("add_", "change_", "delete_"))]


def test_the_named_roles_are_not_granted_the_recall_notices_screen_that_is_gone():
    """Recall notices are read on the one delivery screen (view_sendrecord); they have no admin screen of their own."""
    from django.contrib import admin

    from notices.models import RecallNotice

    assert RecallNotice not in admin.site._registry
    for role in (roles.DRAFTER, roles.APPROVER, roles.CLERK):
        codenames = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        assert "view_sendrecord" in codenames and "view_recallnotice" not in codenames, role


def test_ensure_roles_rebuilds_each_group_with_exactly_its_permissions():
    """From nothing, every role comes back under its name holding exactly its list (auditor: every view_*)."""
    Group.objects.all().delete()

    groups = roles.ensure_roles()

    assert set(groups) == set(roles.ROLE_PERMISSIONS) == set(Group.objects.values_list("name", flat=True))
    for name, group in groups.items():
        assert Group.objects.get(name=name) == group
    held = {name: set(Group.objects.get(name=name).permissions.values_list("codename", flat=True)) for name in groups}
    everything = set(Permission.objects.values_list("codename", flat=True))
    assert held[roles.ADMINISTRATOR] == everything
    views = {codename for codename in everything if codename.startswith("view_")}
    assert held[roles.AUDITOR] == views | {"export_records"}
    for name in set(groups) - {roles.ADMINISTRATOR, roles.AUDITOR}:
        assert held[name] == set(roles.ROLE_PERMISSIONS[name]), name


def test_ensure_roles_puts_a_tampered_group_back():
    """A role group given a stranger's permission and robbed of its own is set back; running twice changes nothing."""
    approver = Group.objects.get(name=roles.APPROVER)
    approver.permissions.set(Permission.objects.filter(codename="issue_dispatch"))

    first = roles.ensure_roles()
    second = roles.ensure_roles()

    assert first[roles.APPROVER].pk == second[roles.APPROVER].pk == approver.pk
    held = set(approver.permissions.values_list("codename", flat=True))
    assert "issue_dispatch" not in held and "approve_dispatch" in held
    assert Group.objects.filter(name=roles.APPROVER).count() == 1


def test_the_permissions_filter_reads_none_as_all_and_a_star_as_a_prefix():
    everything = Permission.objects.count()
    assert Permission.objects.filter(roles.permissions_filter(None)).count() == everything
    chosen = Permission.objects.filter(roles.permissions_filter(["add_dispatch", "delete_*"]))
    codenames = set(chosen.values_list("codename", flat=True))
    assert "add_dispatch" in codenames and "delete_dispatch" in codenames and "delete_delivery" in codenames
    assert all(c == "add_dispatch" or c.startswith("delete_") for c in codenames)
    assert not Permission.objects.filter(roles.permissions_filter([])).exists()


def test_a_star_stands_only_for_the_end_of_a_permission_name():
    """Every letter before the star must match: "submit_dispatchx*" is no name's beginning, so it grants nothing."""
    assert Permission.objects.filter(codename="submit_dispatch").exists()
    assert not Permission.objects.filter(roles.permissions_filter(["submit_dispatchx*"])).exists()
