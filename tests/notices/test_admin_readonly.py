"""Records nobody edits in the admin (notices/admin/readonly.py): not even an administrator changes them."""

from __future__ import annotations

import pytest
from django.contrib import admin

from notices import roles
from notices.admin.readonly import ReadOnlyMixin
from notices.models import AuditEvent, OutgoingRegister, SendRecord
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_every_read_only_screen_refuses_changes_and_lets_its_readers_view(rf):
    read_only = {model for model, model_admin in admin.site._registry.items() if isinstance(model_admin, ReadOnlyMixin)}
    assert {AuditEvent, OutgoingRegister, SendRecord} <= read_only
    request = rf.get("/")
    request.user = make_user("quantri", roles.ADMINISTRATOR)
    for model in read_only:
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request) and not model_admin.has_delete_permission(request), model
        assert model_admin.has_view_permission(request), model
