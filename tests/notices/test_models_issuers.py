"""The issuing agency and its units (notices/models/issuers.py): how the agency's name is printed in the header."""

from __future__ import annotations

from notices.models import Issuer


def test_the_printed_name_is_split_at_each_bar_and_upper_cased():
    issuer = Issuer(name="Bảo hiểm xã hội thành phố Hà Nội", printed_name="Bảo hiểm xã hội | thành phố Hà Nội |")
    assert issuer.printed_name_lines() == ["BẢO HIỂM XÃ HỘI", "THÀNH PHỐ HÀ NỘI"]


def test_without_a_printed_name_the_name_is_one_line():
    assert Issuer(name="Bảo hiểm xã hội Việt Nam").printed_name_lines() == ["BẢO HIỂM XÃ HỘI VIỆT NAM"]
