from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from notices import issuing
from recipients.models import Organization, OrganizationEmail, RecipientGroup
from recipients.seed import seed_directory
from tests.conftest import approve

pytestmark = pytest.mark.django_db

LAST_DISTRICT_DAY = datetime.date(2025, 6, 30)
FIRST_COMMUNE_DAY = datetime.date(2025, 7, 1)


def names(queryset) -> set[str]:
    return set(queryset.values_list("name", flat=True))


def org(name: str, kind: str = "committee", level: str = "commune", **fields) -> Organization:
    organization = Organization.objects.create(name=name, kind=kind, level=level, **fields)
    OrganizationEmail.objects.create(organization=organization, address=f"{organization.pk}@example.vn", primary=True)
    return organization


def test_the_committee_rule_group_follows_the_2025_reform_by_date():
    seed_directory()
    committees = RecipientGroup.objects.get(name="UBND")

    before = names(committees.organizations(LAST_DISTRICT_DAY))
    after = names(committees.organizations(FIRST_COMMUNE_DAY))

    assert len(before) == 31 and "UBND quận Ba Đình" in before and "UBND Phường Ba Đình" not in before
    assert "UBND thành phố Hà Nội" in before and "UBND thành phố Hà Nội" in after
    assert not any(name.startswith(("UBND quận", "UBND huyện", "UBND thị xã")) for name in after)
    assert "UBND Phường Hà Đông" in after
    assert RecipientGroup.objects.get(name="UBND quận, huyện, thị xã").organizations(FIRST_COMMUNE_DAY).count() == 0


def test_a_rule_selects_by_kind_level_area_and_tag_together():
    hit = org("UBND Phường Cầu Giấy", area="Cầu Giấy", tags="Thí điểm, khu-1")
    org("UBND Phường Nghĩa Đô", area="Cầu Giấy", tags="khu-1")
    org("UBND Xã Sóc Sơn", area="Sóc Sơn", tags="thí điểm")
    org("Công an phường Cầu Giấy", kind="police", area="Cầu Giấy", tags="thí điểm")
    group = RecipientGroup.objects.create(name="g", rule_kind="committee", rule_level="commune", rule_area="cầu giấy",
                                          rule_tag="Thí điểm")  # fmt: skip
    assert list(group.organizations(FIRST_COMMUNE_DAY)) == [hit]


def test_a_tag_matches_whole_tags_only():
    org("A", tags="khu-10")
    assert not RecipientGroup.objects.create(name="g", rule_tag="khu-1").organizations().exists()


def test_static_members_and_rule_matches_are_combined_and_both_filtered_by_date():
    old = org("UBND quận Hoàn Kiếm", level="district", valid_to=LAST_DISTRICT_DAY)
    new = org("UBND Phường Hoàn Kiếm", valid_from=FIRST_COMMUNE_DAY)
    department = org("Sở Y tế", kind="department", level="city")
    inactive = org("Sở cũ", kind="department", level="city", active=False)
    group = RecipientGroup.objects.create(name="g", rule_kind="department")
    group.members.add(old, new)

    assert set(group.organizations(LAST_DISTRICT_DAY)) == {old, department}
    assert set(group.organizations(FIRST_COMMUNE_DAY)) == {new, department}
    assert inactive not in group.organizations(FIRST_COMMUNE_DAY)


def test_a_group_without_rule_is_just_its_members():
    member = org("A")
    org("B")
    group = RecipientGroup.objects.create(name="g")
    group.members.add(member)
    assert list(group.organizations()) == [member]


def test_a_dispatch_targets_its_groups_on_its_issue_day(draft):
    seed_directory()
    draft.groups.set(RecipientGroup.objects.filter(name="UBND"))
    draft.issued_at = timezone.make_aware(datetime.datetime(2025, 6, 30, 16, 0))
    assert "UBND huyện Mỹ Đức" in names(draft.target_organizations())

    draft.issued_at = timezone.make_aware(datetime.datetime(2025, 7, 1, 8, 0))
    targets = names(draft.target_organizations())
    assert "UBND huyện Mỹ Đức" not in targets and "UBND Xã Sóc Sơn" in targets
    assert {row[1] for row in draft.recipient_addresses()} == targets


def test_issuing_records_the_evaluated_groups_and_their_label_prints(draft, clerk):
    seed_directory()
    draft.groups.set(RecipientGroup.objects.filter(name__in=["UBND phường, xã", "Công an"]))

    issuing.issue(approve(draft), clerk)

    draft.refresh_from_db()
    snapshot = draft.targets_snapshot
    assert snapshot["day"] == timezone.localdate().isoformat()
    by_name = {group["name"]: group for group in snapshot["groups"]}
    assert by_name["UBND phường, xã"]["rule"] == {"kind": "committee", "level": "commune"}
    assert by_name["UBND phường, xã"]["organization_count"] == Organization.objects.filter(level="commune").count()
    assert snapshot["organization_count"] == by_name["UBND phường, xã"]["organization_count"] + 1
    assert draft.addressee_lines() == ["Công an thành phố Hà Nội", "UBND các phường, xã"]
