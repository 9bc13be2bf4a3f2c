"""The built-in directory of Hà Nội bodies used by `seed_directory` and `seed_demo` (addresses on example domains)."""

from __future__ import annotations

import datetime

from django.db import transaction

from recipients.models import Organization, OrganizationEmail, OrganizationKind, OrganizationLevel, RecipientGroup

# The 23 "BHXH cơ sở" units of 2025 (DOMAIN.md).
SOCIAL_SECURITY_OFFICES = [
    "Ba Đình", "Tây Tựu", "Cầu Giấy", "Đống Đa", "Hai Bà Trưng", "Hoàn Kiếm", "Hoàng Mai", "Long Biên",
    "Từ Liêm", "Tây Hồ", "Thanh Xuân", "Ba Vì", "Đông Anh", "Gia Lâm", "Mê Linh", "Sóc Sơn", "Thanh Trì",
    "Chương Mỹ", "Đan Phượng", "Thạch Thất", "Sơn Tây", "Thường Tín", "Ứng Hòa",
]  # fmt: skip

# A partial list of the 126 commune-level units that began on 1 July 2025.
COMMUNES = ["Phường Ba Đình", "Phường Hoàn Kiếm", "Phường Cầu Giấy", "Phường Đống Đa", "Phường Tây Hồ", "Xã Sóc Sơn"]
COMMUNES_START = datetime.date(2025, 7, 1)

EMPLOYERS = [
    ("Công ty TNHH Thương mại Sông Hồng", "TA0001A", "0100000001"),
    ("Công ty Cổ phần Xây dựng Thăng Long", "TA0002B", "0100000002"),
    ("Công ty TNHH Dệt may Hà Đông", "TA0003C", "0100000003"),
    ("Công ty Cổ phần Phần mềm Hồ Gươm", "TA0004D", "0100000004"),
]
COLLECTION_AGENTS = ["Bưu điện thành phố Hà Nội", "Bưu điện huyện Gia Lâm"]


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


def group(name: str, label: str, members: list[Organization]) -> RecipientGroup:
    """Create or update a static group with exactly these members."""
    grp, _ = RecipientGroup.objects.update_or_create(name=name, defaults={"label": label})
    grp.members.set(members)
    return grp


@transaction.atomic
def seed_directory() -> dict[str, int]:
    """Create or update the built-in directory and its groups; return how many of each there are."""
    offices = [
        upsert(f"Bảo hiểm xã hội cơ sở {n}", OrganizationKind.SOCIAL_SECURITY_OFFICE, OrganizationLevel.DISTRICT,
               f"bhxh.{slug(n)}@bhxh-hanoi.example.vn", area=n)
        for n in SOCIAL_SECURITY_OFFICES
    ]  # fmt: skip
    police = upsert(
        "Công an thành phố Hà Nội", OrganizationKind.POLICE, OrganizationLevel.CITY, "vanthu@congan-hanoi.example.vn"
    )
    committee = upsert(
        "UBND thành phố Hà Nội",
        OrganizationKind.PEOPLES_COMMITTEE,
        OrganizationLevel.CITY,
        "vanthu@ubnd-hanoi.example.vn",
    )
    communes = [
        upsert(f"UBND {n}", OrganizationKind.PEOPLES_COMMITTEE, OrganizationLevel.COMMUNE,
               f"ubnd.{slug(n)}@hanoi.example.vn", area=n, valid_from=COMMUNES_START)
        for n in COMMUNES
    ]  # fmt: skip
    employers = [
        upsert(name, OrganizationKind.EMPLOYER, OrganizationLevel.CITY, f"nhansu@{slug(name)[:20]}.example.com",
               bhxh_code=code, tax_code=tax)
        for name, code, tax in EMPLOYERS
    ]  # fmt: skip
    agents = [
        upsert(n, OrganizationKind.COLLECTION_AGENT, OrganizationLevel.CITY, f"thu.bhxh@{slug(n)}.example.vn")
        for n in COLLECTION_AGENTS
    ]
    group("BHXH cơ sở", "BHXH các quận, huyện, thị xã", offices)
    group("Công an", "Công an thành phố Hà Nội", [police])
    group("UBND", "UBND thành phố và các phường, xã", [committee, *communes])
    group("Đơn vị sử dụng lao động", "Các đơn vị sử dụng lao động", employers)
    group("Đại lý thu", "Các tổ chức dịch vụ thu BHXH, BHYT", agents)
    return {"organizations": Organization.objects.count(), "groups": RecipientGroup.objects.count()}
