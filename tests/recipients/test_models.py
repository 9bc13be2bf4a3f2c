from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from recipients.importing import import_directory
from recipients.models import Organization, OrganizationEmail
from tests.recipients.conftest import csv_bytes, employer

pytestmark = pytest.mark.django_db


def org(name: str) -> Organization:
    return Organization.objects.create(name=name, kind="bhxh", level="district")


def test_saving_keeps_the_folded_name_even_when_only_the_name_is_saved():
    office = org("BHXH cơ sở Ba Đình")
    assert office.search_name == "bhxh co so ba dinh"
    office.name = "Bảo hiểm xã hội Đống Đa"
    office.save(update_fields=["name"])
    office.refresh_from_db()
    assert office.search_name == "bao hiem xa hoi dong da"


def test_the_import_folds_the_names_it_creates_and_renames():
    import_directory(csv_bytes([employer(1, name="Công ty Điện lực Hoàn Kiếm")]), "a.csv")
    assert Organization.objects.get().search_name == "cong ty dien luc hoan kiem"
    import_directory(csv_bytes([employer(1, name="Công ty Điện lực Hà Đông")]), "a.csv")
    assert Organization.objects.get().search_name == "cong ty dien luc ha dong"


def test_a_search_ranks_the_name_itself_then_names_starting_with_it_then_a_word_starting_with_it():
    for name in ["Trường THCS Ba Đình", "Ba Đình", "Bà Điểm", "Ba Đình Xanh", "UBND phường Ba Đình"]:
        org(name)
    found = Organization.objects.filter(search_name__contains="ba dinh").ranked_for("BA DINH")
    assert [o.name for o in found] == ["Ba Đình", "Ba Đình Xanh", "Trường THCS Ba Đình", "UBND phường Ba Đình"]


def test_an_address_that_mixes_scripts_is_refused_by_the_model_too():
    email = OrganizationEmail(organization=org("Sở Tư pháp"), address="\u0430dmin@stp.example.vn")
    with pytest.raises(ValidationError, match="U\\+0430 CYRILLIC SMALL LETTER A"):
        email.full_clean()


def test_the_edxml_receivers_are_the_state_bodies_that_carry_an_agency_code():
    def body(name: str, kind: str, code: str) -> Organization:
        return Organization.objects.create(name=name, kind=kind, level="city", agency_code=code)

    body("UBND thành phố Hà Nội", "committee", "000.00.00.H26")
    body("Công an thành phố Hà Nội", "police", "000.00.01.H26")
    body("Sở Tài chính", "department", "")
    body("Công ty TNHH Minh Anh", "employer", "000.00.99.H26")
    body("Bưu điện thành phố Hà Nội", "agent", "000.00.98.H26")
    names = Organization.objects.edxml_receivers().order_by("agency_code").values_list("name", flat=True)
    assert list(names) == ["UBND thành phố Hà Nội", "Công an thành phố Hà Nội"]
