"""Verification codes (notices/models/codes.py): unguessable, typable, printed on the first page."""

from __future__ import annotations

import re

from notices.models import codes
from tests.notices.conftest import open_pdf, stored_pdf


def test_codes_are_unguessable_and_typable(genuine):
    assert len(genuine.verification_code) >= 22  # 22 url-safe characters carry 128 bits; ours carry 192
    assert re.fullmatch(r"[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{2}", genuine.short_code)
    with open_pdf(stored_pdf(genuine)) as pdf:
        first_page = " ".join(pdf.pages[0].extract_text().split())
    assert f"Mã: {genuine.short_code}" in first_page and "127.0.0.1:8000/xac-thuc" in first_page
    assert len({codes.new_verification_code() for _ in range(1000)}) == 1000
