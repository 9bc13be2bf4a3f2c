"""Users and roles in the admin (notices/admin/accounts.py): permissions named in the user's language."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.utils import translation

from notices.admin.accounts import permission_label

pytestmark = pytest.mark.django_db


def test_a_permission_is_named_by_its_app_its_model_and_what_it_allows():
    view_delivery = Permission.objects.get(content_type__app_label="notices", codename="view_delivery")
    issue = Permission.objects.get(content_type__app_label="notices", codename="issue_dispatch")
    assert permission_label(view_delivery).endswith("| delivery | Can view delivery")
    assert permission_label(issue).endswith("| dispatch | Can issue and send an approved dispatch")


def test_a_permission_is_named_in_vietnamese_in_a_vietnamese_session():
    view_delivery = Permission.objects.get(content_type__app_label="notices", codename="view_delivery")
    with translation.override("vi"):
        assert permission_label(view_delivery).endswith("Được xem lượt gửi")
