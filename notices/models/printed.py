"""How a dispatch's lines are printed: the place-and-date line, and how "Kính gửi" and "Nơi nhận" name a group."""

from __future__ import annotations

import datetime

from recipients.models import OrganizationKind, OrganizationLevel


def format_place_date(place: str, day: datetime.date) -> str:
    """Return the Decree-30 place-and-date line: "Hà Nội, ngày 05 tháng 3 năm 2026".

    Days below 10 and the months January and February take a leading zero.
    """
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


# Document: how "Kính gửi" and "Nơi nhận" name a group that has no printed label.
GROUP_MEMBERS_PRINTED = 5  # up to this many members are named one by one
KIND_PRINTED = {
    OrganizationKind.SOCIAL_SECURITY_OFFICE: "BHXH cơ sở",
    OrganizationKind.POLICE: "Cơ quan Công an",
    OrganizationKind.PEOPLES_COMMITTEE: "Ủy ban nhân dân",
    OrganizationKind.CITY_DEPARTMENT: "Các sở, ban, ngành",
    OrganizationKind.EMPLOYER: "Các đơn vị sử dụng lao động",
    OrganizationKind.COLLECTION_AGENT: "Các tổ chức dịch vụ thu BHXH, BHYT",
}
KIND_AND_LEVEL_PRINTED = {
    (OrganizationKind.POLICE, OrganizationLevel.DISTRICT): "Công an các quận, huyện, thị xã",
    (OrganizationKind.POLICE, OrganizationLevel.COMMUNE): "Công an các phường, xã",
    (OrganizationKind.PEOPLES_COMMITTEE, OrganizationLevel.DISTRICT): "Ủy ban nhân dân các quận, huyện, thị xã",
    (OrganizationKind.PEOPLES_COMMITTEE, OrganizationLevel.COMMUNE): "Ủy ban nhân dân các phường, xã",
}
MIXED_KINDS_PRINTED = "Các cơ quan, đơn vị liên quan"


def printed_key(line: str) -> str:
    """Return a printed line folded for comparison (case, spacing and closing punctuation do not matter)."""
    return " ".join(line.casefold().rstrip(" .;,").split())


def printed_group_lines(group, day: datetime.date) -> list[str]:
    """Return how a targeted group is printed: its label, else its few members' names, else what kind they are.

    A group's name is the directory's internal handle; a records clerk prints the label, or the organisations
    themselves when there are few, or what they are ("Các đơn vị sử dụng lao động").
    """
    if group.label.strip():
        return [group.label.strip()]
    organizations = group.organizations(day)
    names = list(organizations.order_by("name").values_list("name", flat=True)[: GROUP_MEMBERS_PRINTED + 1])
    if len(names) <= GROUP_MEMBERS_PRINTED:
        return names
    kinds = set(organizations.values_list("kind", "level").distinct())
    if len({kind for kind, _level in kinds}) != 1:
        return [MIXED_KINDS_PRINTED]
    (kind, level), *others = kinds
    printed = KIND_AND_LEVEL_PRINTED.get((kind, level)) if not others else None
    return [printed or KIND_PRINTED.get(kind, MIXED_KINDS_PRINTED)]


def distinct_from(lines: list[str], addressees: list[str]) -> list[str]:
    """Return the lines that neither name an addressee ("Như trên" covers them) nor repeat an earlier line."""
    seen = {printed_key(line) for line in addressees}
    kept = []
    for line in lines:
        if line == "Như trên" or printed_key(line) not in seen:
            kept.append(line)
            seen.add(printed_key(line))
    return kept
