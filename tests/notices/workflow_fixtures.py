"""Fixtures and helpers of the workflow tests: the roles' permission matrix, a dispatch in each action's state."""

from __future__ import annotations

import pytest
from django.utils import timezone

from notices import issuing, roles
from notices.models import Dispatch
from tests.conftest import make_group, make_user, with_recipient

ROLES = [roles.DRAFTER, roles.APPROVER, roles.CLERK, roles.AUDITOR, roles.ADMINISTRATOR]
# Which roles may perform each workflow action (on a dispatch drafted by somebody else, except submit).
ALLOWED = {
    "submit": {roles.DRAFTER, roles.ADMINISTRATOR},
    "approve": {roles.APPROVER, roles.ADMINISTRATOR},
    "return": {roles.APPROVER, roles.ADMINISTRATOR},
    "issue": {roles.CLERK, roles.ADMINISTRATOR},
    "recall": {roles.CLERK, roles.ADMINISTRATOR},
    "replace": {roles.CLERK, roles.ADMINISTRATOR},
}
# The status each action needs, and the status it leads to.
BEFORE = {"submit": "draft", "approve": "submitted", "return": "submitted", "issue": "approved", "recall": "sent",
          "replace": "sent"}  # fmt: skip
AFTER = {"submit": "submitted", "approve": "approved", "return": "draft", "issue": "issued", "recall": "recalled",
         "replace": "sent"}  # fmt: skip


@pytest.fixture
def draft(draft) -> Dispatch:
    """The shared draft, addressed to one organisation (a dispatch to nobody cannot be submitted)."""
    return with_recipient(draft)


def actor_for(role: str):
    """Return a user holding only the given role."""
    return make_user(f"actor-{ROLES.index(role)}", role)


def prepared(draft: Dispatch, action: str, actor) -> Dispatch:
    """Put the draft in the state the action needs; a drafter submits their own draft."""
    changes = {"status": BEFORE[action]}
    if action == "submit":
        changes["created_by"] = actor
    if BEFORE[action] == "sent":
        changes.update(number=7, year=2026, series="regular", issued_at=timezone.now())
    Dispatch.objects.filter(pk=draft.pk).update(**changes)
    draft.refresh_from_db()
    return draft


@pytest.fixture
def issued(approved, clerk, django_capture_on_commit_callbacks):
    """The approved dispatch, issued to two more organisations (the sending is left queued)."""
    approved.groups.add(make_group(2))
    issuing.issue(approved, clerk)
    approved.refresh_from_db()
    return approved
