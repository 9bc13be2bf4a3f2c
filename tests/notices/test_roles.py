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
