"""The built-in directory of Hà Nội bodies used by `seed_directory` and `seed_demo` (addresses on example domains)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction

from recipients.models import Organization, OrganizationEmail, OrganizationKind, OrganizationLevel, RecipientGroup

# The 23 "BHXH cơ sở" units of 2025 (DOMAIN.md).
SOCIAL_SECURITY_OFFICES = [
    "Ba Đình", "Tây Tựu", "Cầu Giấy", "Đống Đa", "Hai Bà Trưng", "Hoàn Kiếm", "Hoàng Mai", "Long Biên",
    "Từ Liêm", "Tây Hồ", "Thanh Xuân", "Ba Vì", "Đông Anh", "Gia Lâm", "Mê Linh", "Sóc Sơn", "Thanh Trì",
    "Chương Mỹ", "Đan Phượng", "Thạch Thất", "Sơn Tây", "Thường Tín", "Ứng Hòa",
]  # fmt: skip

# The 30 district-level people's committees, abolished on 30 June 2025 (DOMAIN.md): (form, name).
FORMER_DISTRICTS = [("quận", n) for n in [
    "Ba Đình", "Hoàn Kiếm", "Tây Hồ", "Long Biên", "Cầu Giấy", "Đống Đa", "Hai Bà Trưng", "Hoàng Mai", "Thanh Xuân",
    "Nam Từ Liêm", "Bắc Từ Liêm", "Hà Đông",
]] + [("thị xã", "Sơn Tây")] + [("huyện", n) for n in [
    "Sóc Sơn", "Đông Anh", "Gia Lâm", "Thanh Trì", "Mê Linh", "Ba Vì", "Phúc Thọ", "Đan Phượng", "Hoài Đức", "Quốc Oai",
    "Thạch Thất", "Chương Mỹ", "Thanh Oai", "Thường Tín", "Phú Xuyên", "Ứng Hòa", "Mỹ Đức",
]]  # fmt: skip
DISTRICTS_END = datetime.date(2025, 6, 30)

# PARTIAL: a few of the 126 commune-level units of 1 July 2025: "Phường Hà Đông" (named in DOMAIN.md) and units that
# kept the name of the former district or of a 2025 BHXH cơ sở. Staff complete the list (and check these names against
# the resolution) by importing a spreadsheet; the data says the list is partial (tag and group description).
COMMUNES = [
    "Phường Ba Đình", "Phường Hoàn Kiếm", "Phường Cầu Giấy", "Phường Đống Đa", "Phường Tây Hồ", "Phường Hà Đông",
    "Phường Hai Bà Trưng", "Phường Hoàng Mai", "Phường Long Biên", "Phường Thanh Xuân", "Phường Từ Liêm",
    "Phường Tây Tựu", "Phường Sơn Tây", "Xã Sóc Sơn", "Xã Đông Anh", "Xã Gia Lâm", "Xã Mê Linh", "Xã Ba Vì",
    "Xã Đan Phượng", "Xã Thạch Thất", "Xã Chương Mỹ", "Xã Thường Tín", "Xã Ứng Hòa",
]  # fmt: skip
COMMUNES_START = datetime.date(2025, 7, 1)
COMMUNES_TOTAL = 126
PARTIAL_TAG = "danh-sach-chua-du"

EMPLOYERS = [
    ("Công ty TNHH Thương mại Sông Hồng", "TA0001A", "0100000001"),
    ("Công ty Cổ phần Xây dựng Thăng Long", "TA0002B", "0100000002"),
    ("Công ty TNHH Dệt may Hà Đông", "TA0003C", "0100000003"),
    ("Công ty Cổ phần Phần mềm Hồ Gươm", "TA0004D", "0100000004"),
]
COLLECTION_AGENTS = ["Bưu điện thành phố Hà Nội", "Bưu điện huyện Gia Lâm", "Tổ chức dịch vụ thu BHXH, BHYT Hồng Hà"]
CITY_DEPARTMENTS = ["Sở Y tế", "Sở Nội vụ", "Sở Tài chính", "Sở Giáo dục và Đào tạo"]


def slug(text: str) -> str:
    """Return an ASCII mailbox name for a Vietnamese name ("Đống Đa" -> "dongda")."""
    import unicodedata

    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


def upsert(name: str, kind: str, level: str, email: str, **fields) -> Organization:
    """Create or update one organisation by name and kind, with its primary email address."""
    org, _ = Organization.objects.update_or_create(name=name, kind=kind, defaults={"level": level, **fields})
    OrganizationEmail.objects.update_or_create(organization=org, address=email, defaults={"primary": True})
    return org


def group(name: str, label: str, members: Iterable[Organization] = (), description: str = "", **rule) -> RecipientGroup:
    """Create or update a group with exactly these static members and this rule (rule_kind=..., rule_level=...)."""
    rule = {f"rule_{key}": rule.get(key, "") for key in ("kind", "level", "area", "tag")}
    grp, _ = RecipientGroup.objects.update_or_create(
        name=name, defaults={"label": label, "description": description, **rule}
    )
    grp.members.set(members)
    return grp


@transaction.atomic
def seed_directory() -> dict[str, int]:
    """Create or update the built-in directory and its groups; return how many of each there are."""
    kind, level = OrganizationKind, OrganizationLevel
    offices = [
        upsert(f"Bảo hiểm xã hội cơ sở {n}", kind.SOCIAL_SECURITY_OFFICE, level.DISTRICT,
               f"bhxh.{slug(n)}@bhxh-hanoi.example.vn", area=n)
        for n in SOCIAL_SECURITY_OFFICES
    ]  # fmt: skip
    police = upsert("Công an thành phố Hà Nội", kind.POLICE, level.CITY, "vanthu@congan-hanoi.example.vn")
    upsert("UBND thành phố Hà Nội", kind.PEOPLES_COMMITTEE, level.CITY, "vanthu@ubnd-hanoi.example.vn")
    for form, n in FORMER_DISTRICTS:
        upsert(f"UBND {form} {n}", kind.PEOPLES_COMMITTEE, level.DISTRICT, f"ubnd.{slug(n)}@hanoi.example.vn",
               area=n, valid_to=DISTRICTS_END)  # fmt: skip
    for n in COMMUNES:
        upsert(f"UBND {n}", kind.PEOPLES_COMMITTEE, level.COMMUNE, f"ubnd.{slug(n)}@hanoi.example.vn",
               area=n, valid_from=COMMUNES_START, tags=PARTIAL_TAG)  # fmt: skip
    for name, code, tax in EMPLOYERS:
        upsert(name, kind.EMPLOYER, level.CITY, f"nhansu@{slug(name)[:20]}.example.com", bhxh_code=code, tax_code=tax)
    for n in COLLECTION_AGENTS:
        upsert(n, kind.COLLECTION_AGENT, level.CITY, f"thu.bhxh@{slug(n)[:30]}.example.vn")
    for n in CITY_DEPARTMENTS:
        upsert(n, kind.CITY_DEPARTMENT, level.CITY, f"vanthu@{slug(n.removeprefix('Sở '))}.hanoi.example.vn")
    seed_groups(offices, police)
    return {"organizations": Organization.objects.count(), "groups": RecipientGroup.objects.count()}


def seed_groups(offices: list[Organization], police: Organization) -> None:
    """Create the static groups `seed_demo` relies on and the rule-based groups of the directory."""
    kind, level = OrganizationKind, OrganizationLevel
    partial = f"Danh sách cấp xã chưa đầy đủ: {len(COMMUNES)}/{COMMUNES_TOTAL} đơn vị (nhãn “{PARTIAL_TAG}”)."
    group("BHXH cơ sở", "BHXH các quận, huyện, thị xã", offices)
    group("Công an", "Công an thành phố Hà Nội", [police])
    group("UBND", "UBND các cấp trên địa bàn thành phố",
          description=partial, kind=kind.PEOPLES_COMMITTEE)  # fmt: skip
    group("UBND quận, huyện, thị xã", "UBND các quận, huyện, thị xã", kind=kind.PEOPLES_COMMITTEE, level=level.DISTRICT)
    group("UBND phường, xã", "UBND các phường, xã", description=partial, kind=kind.PEOPLES_COMMITTEE,
          level=level.COMMUNE)  # fmt: skip
    group("Sở, ban, ngành", "Các sở, ban, ngành thành phố", kind=kind.CITY_DEPARTMENT)
    group("Đơn vị sử dụng lao động", "Các đơn vị sử dụng lao động", kind=kind.EMPLOYER)
    group("Đại lý thu", "Các tổ chức dịch vụ thu BHXH, BHYT", kind=kind.COLLECTION_AGENT)
