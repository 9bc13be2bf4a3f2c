"""The directory in the admin (recipients/admin.py): the lists, groups, suppressions and the accent-free search."""

from __future__ import annotations

import pytest
from django.urls import reverse

from recipients.models import Organization, RecipientGroup, Suppression
from recipients.seed import seed_directory
from tests.recipients.conftest import IMPORT_URL

pytestmark = pytest.mark.django_db


def test_the_clerk_lifts_a_suppression_with_a_reason(clerk_client, clerk):
    suppression = Suppression.objects.create(address="da-sua@example.vn", reason="bounce", source="mailgun")
    url = reverse("admin:recipients_suppression_changelist")
    action = {"action": "lift_suppressions", "_selected_action": [suppression.pk]}

    asked = clerk_client.post(url, action)
    assert "da-sua@example.vn" in asked.content.decode() and asked.context["form"].fields["reason"].required
    clerk_client.post(url, {**action, "lift": "1", "reason": ""})
    suppression.refresh_from_db()
    assert suppression.lifted_at is None

    clerk_client.post(url, {**action, "lift": "1", "reason": "Đơn vị đã sửa hộp thư"})
    suppression.refresh_from_db()
    assert suppression.lifted_by == clerk and suppression.lifted_reason == "Đơn vị đã sửa hộp thư"
    assert not Suppression.objects.active().exists()


def test_the_directory_pages_show_the_import_export_buttons_and_group_rules(clerk_client):
    seed_directory()
    changelist = clerk_client.get(reverse("admin:recipients_organization_changelist") + "?kind__exact=committee")
    html = changelist.content.decode()
    assert reverse(IMPORT_URL) in html and "/export/xlsx/?kind__exact=committee" in html

    groups = clerk_client.get(reverse("admin:recipients_recipientgroup_changelist")).content.decode()
    assert "kind=committee, level=commune" in groups
    group = RecipientGroup.objects.get(name="UBND")
    assert clerk_client.get(reverse("admin:recipients_recipientgroup_change", args=[group.pk])).status_code == 200
    assert clerk_client.get(reverse("admin:recipients_suppression_changelist") + "?status=active").status_code == 200


def test_the_organisation_search_ignores_accents_and_case(clerk_client):
    for name in ["UBND phường Ô Chợ Dừa", "Công an phường Ô Chợ Dừa", "UBND phường Ba Đình"]:
        Organization.objects.create(name=name, kind="committee", level="commune")
    url = reverse("admin:recipients_organization_changelist")
    for query in ["o cho dua", "Ô CHỢ DỪA", "O Cho Dua"]:
        found = [o.name for o in clerk_client.get(url, {"q": query}).context["cl"].result_list]
        assert found == ["Công an phường Ô Chợ Dừa", "UBND phường Ô Chợ Dừa"]


def test_the_organisation_autocomplete_puts_the_exact_and_prefix_matches_first(clerk_client):
    for name in ["Trường THCS Đống Đa", "Đống Đa", "Đống Đa Xanh", "BHXH cơ sở Đống Đa"]:
        Organization.objects.create(name=name, kind="other", level="city")
    params = {"term": "dong da", "app_label": "notices", "model_name": "dispatch", "field_name": "organizations"}
    response = clerk_client.get(reverse("admin:autocomplete"), params)
    assert [item["text"] for item in response.json()["results"]] == [
        "Đống Đa", "Đống Đa Xanh", "BHXH cơ sở Đống Đa", "Trường THCS Đống Đa"]  # fmt: skip
