"""The project's admin site: the default one, and every model admin on it is audited."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse

from notices import roles
from notices.admin_site import AuditedAdminMixin, AuditedAdminSite
from notices.models import AuditEvent
from recipients.models import Organization, RecipientGroup
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_the_default_site_is_the_audited_site_and_holds_every_app_s_admins():
    assert isinstance(admin.site._wrapped, AuditedAdminSite)
    for model in (Group, Organization, RecipientGroup):
        assert model in admin.site._registry
    assert all(isinstance(model_admin, AuditedAdminMixin) for model_admin in admin.site._registry.values())


def test_the_urls_serve_the_audited_site(client, clerk):
    client.force_login(clerk)
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200 and page.context["site_header"] == AuditedAdminSite.site_header


def test_a_change_through_django_s_own_user_admin_is_audited(client):
    administrator = make_user("quantri", "Quản trị")
    administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)
    response = client.post(reverse("admin:auth_group_add"), {"name": "Nhóm mới"})
    assert response.status_code == 302
    group = Group.objects.get(name="Nhóm mới")
    assert AuditEvent.objects.for_object(group).filter(action="create", actor=administrator).exists()


def test_admin_changes_to_any_model_are_audited(client, issuer):
    admin_user = make_user("quantri", roles.ADMINISTRATOR)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:notices_draftingunit_add"), {"issuer": issuer.pk, "name": "Văn phòng", "abbreviation": "VP"}
    )
    assert response.status_code == 302
    org = Organization.objects.create(name="Công an phường Ba Đình", kind="police", level="commune")
    client.post(reverse("admin:recipients_organization_delete", args=[org.pk]), {"post": "yes"})
    actions = list(AuditEvent.objects.filter(actor=admin_user).values_list("action", "object_type"))
    assert ("create", "notices.draftingunit") in actions and ("delete", "recipients.organization") in actions
