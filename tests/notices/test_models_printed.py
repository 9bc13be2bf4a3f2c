"""How a dispatch's lines are printed (notices/models/printed.py): the place-and-date line, how a group is named."""

from __future__ import annotations

import datetime

import pytest

from recipients.models import Organization, RecipientGroup
from tests.conftest import make_group


@pytest.mark.django_db
def test_a_group_without_a_label_is_printed_as_its_members_or_their_kind_never_its_internal_name(draft):
    draft.addressees = "Công an thành phố Hà Nội"
    draft.save()
    few = make_group(2, name="nhom-bhxh-thu-nghiem", label="")
    draft.groups.add(few)
    assert draft.distribution_lines() == [
        "Như trên", "Bảo hiểm xã hội cơ sở số 000", "Bảo hiểm xã hội cơ sở số 001", "Lưu: VT, QLT",
    ]  # fmt: skip
    draft.groups.set([make_group(8, name="nhom-bhxh-2025", label="")])
    assert draft.distribution_lines() == ["Như trên", "BHXH cơ sở", "Lưu: VT, QLT"]
    draft.addressees = ""
    assert draft.addressee_lines() == ["BHXH cơ sở"], "“Kính gửi” never prints the internal name either"


@pytest.mark.django_db
def test_noi_nhan_does_not_repeat_an_addressee(draft):
    police = Organization.objects.create(name="Công an thành phố Hà Nội", kind="police", level="city")
    group = RecipientGroup.objects.create(name="cong-an-tp", label="")
    group.members.add(police)
    draft.groups.add(group)
    draft.addressees = "Công an thành phố Hà Nội\nSở Nội vụ thành phố Hà Nội"
    draft.extra_distribution = "Sở Nội vụ thành phố Hà Nội;\nGiám đốc (để b/c)\nGiám đốc (để b/c)"
    assert draft.distribution_lines() == ["Như trên", "Giám đốc (để b/c)", "Lưu: VT, QLT"]


def test_the_place_and_date_line_pads_days_below_10_and_the_months_january_and_february():
    from notices.models.printed import format_place_date

    assert format_place_date("Hà Nội", datetime.date(2026, 3, 5)) == "Hà Nội, ngày 05 tháng 3 năm 2026"
    assert format_place_date("Hà Nội", datetime.date(2026, 2, 28)) == "Hà Nội, ngày 28 tháng 02 năm 2026"
    assert format_place_date("Hà Nội", datetime.date(2026, 12, 10)) == "Hà Nội, ngày 10 tháng 12 năm 2026"


def test_a_line_that_names_an_addressee_again_or_repeats_itself_is_left_out_but_nhu_tren_stays():
    from notices.models.printed import distinct_from

    lines = ["Như trên", "công an thành phố hà nội.", "Giám đốc (để b/c)", "Giám  đốc (để b/c);"]
    assert distinct_from(lines, ["Công an thành phố Hà Nội", "Như trên"]) == ["Như trên", "Giám đốc (để b/c)"]
