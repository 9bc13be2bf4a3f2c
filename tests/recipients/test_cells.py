from __future__ import annotations

import pytest

from notices.exports import safe_cell
from recipients.cells import escape_cell, unescape_cell
from recipients.exporting import organization_cells
from recipients.models import Organization

VALUES = ["=1+1", "+84 24", "-x", "@home", "\tcmd", "\rcmd", "'quoted", "''twice", "'=1", "plain", "", "'"]


@pytest.mark.parametrize("value", VALUES)
def test_unescaping_gives_back_exactly_what_was_escaped(value):
    assert unescape_cell(escape_cell(value)) == value


@pytest.mark.parametrize("value", ["=1", "+1", "-1", "@a", "\ta", "\ra", "'a"])
def test_a_cell_a_spreadsheet_would_run_or_that_starts_with_an_apostrophe_is_escaped(value):
    assert escape_cell(value) == "'" + value


def test_an_apostrophe_the_export_did_not_add_is_kept():
    assert unescape_cell("'abc") == "'abc" and escape_cell("abc") == "abc"


@pytest.mark.django_db
def test_every_export_escapes_alike():
    org = Organization(name="\t=cmd", short_name="'x", phone="+84", address="@a", kind="other", level="city")
    org.save()
    directory = organization_cells(org)
    assert directory[:2] == [safe_cell(org.name), safe_cell(org.short_name)] == ["'\t=cmd", "''x"]
