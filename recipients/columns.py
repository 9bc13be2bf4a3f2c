"""The columns of the directory spreadsheet, shared by import, export and the template file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from recipients.folding import fold

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Column:
    key: str
    help: StrOrPromise
    max_length: int | None = None
    required: bool = False
    aliases: tuple[str, ...] = field(default=())


COLUMNS = [
    Column(
        "name",
        _("Full name of the organisation."),
        255,
        True,
        ("tên", "tên đơn vị", "tên cơ quan", "tên tổ chức", "tên doanh nghiệp"),
    ),
    Column("short_name", _("Short name."), 100, False, ("tên viết tắt", "tên tắt")),
    Column(
        "kind",
        _("bhxh, police, committee, department, employer, agent or other."),
        20,
        True,
        ("loại", "loại đơn vị", "loại hình"),
    ),
    Column("level", _("city, district or commune (city when empty)."), 10, False, ("cấp",)),
    Column("area", _("District or commune the body covers."), 100, False, ("địa bàn",)),
    Column("agency_code", _("13-character organisation code (edXML)."), 13, False, ("mã định danh", "mã cơ quan")),
    Column("bhxh_code", _("BHXH unit code of an employer."), 20, False, ("mã đơn vị", "mã đơn vị bhxh", "mã bhxh")),
    Column("tax_code", _("Tax code: 10 digits, or 10 digits-3 digits for a branch."), 14, False, ("mã số thuế", "mst")),
    Column(
        "emails",
        _("Addresses separated by ; or , (the first is primary)."),
        None,
        True,
        ("email", "e-mail", "emails", "thư điện tử", "địa chỉ email", "địa chỉ thư điện tử"),
    ),
    Column("phone", _("Phone."), 50, False, ("điện thoại", "số điện thoại", "sđt")),
    Column("address", _("Postal address."), 500, False, ("địa chỉ", "địa chỉ liên hệ")),
    Column("tags", _("Tags separated by commas, used by rule-based groups."), 255, False, ("nhãn",)),
    Column("valid_from", _("First day the body exists (YYYY-MM-DD or DD/MM/YYYY)."), None, False, ("hiệu lực từ",)),
    Column("valid_to", _("Last day the body exists (YYYY-MM-DD or DD/MM/YYYY)."), None, False, ("hiệu lực đến",)),
    Column("active", _("1/0, yes/no, có/không (1 when empty)."), None, False, ("hoạt động",)),
]
COLUMN_KEYS = [column.key for column in COLUMNS]
CODE_COLUMNS = ["bhxh_code", "tax_code", "agency_code"]


SEPARATORS = re.compile(r"[\s_\-.]+")


def header_key(text: str) -> str:
    """Return the form a header cell is matched by, without accents, case or spacing ("Mã_số thuế " -> "ma so thue")."""
    return " ".join(SEPARATORS.split(fold(str(text or "")))).strip()


HEADERS = {header_key(alias): c.key for c in COLUMNS for alias in (c.key, *c.aliases)}
