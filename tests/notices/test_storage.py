"""Where files are stored (notices/storage.py): under fresh random names that say nothing about the file."""

from __future__ import annotations

import re

from notices import storage


def test_each_name_is_32_random_url_safe_characters_and_the_suffix():
    names = {storage.random_name() for _ in range(1000)}
    assert len(names) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}\.pdf", name) for name in names)
    assert storage.random_name(".xlsx").endswith(".xlsx")


def test_an_appendix_is_stored_under_its_year_and_never_under_its_upload_name():
    name = storage.appendix_name(None, "bang-ke-no-cong-ty-A.pdf")
    assert re.fullmatch(r"appendices/\d{4}/[A-Za-z0-9_-]{32}\.pdf", name) and "cong-ty" not in name
