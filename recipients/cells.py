"""Protect spreadsheet cells from formula injection on export, and undo exactly that protection on import.

Every CSV and XLSX export (the directory, the register, the send history, the audit trail) writes its text cells
through `escape_cell`, and the directory import reads them back through `unescape_cell`.
"""

from __future__ import annotations

# A cell starting with one of these is a formula to Excel and LibreOffice (CSV injection); a leading apostrophe is
# escaped too, so that unescaping removes only what escaping added.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ESCAPED_PREFIXES = (*FORMULA_PREFIXES, "'")


def escape_cell(text: str) -> str:
    """Return `text` with a leading apostrophe when a spreadsheet would run it as a formula (or it starts with one)."""
    return "'" + text if text.startswith(ESCAPED_PREFIXES) else text


def unescape_cell(text: str) -> str:
    """Return `text` without the apostrophe `escape_cell` added; any other leading apostrophe is kept."""
    return text[1:] if text[:1] == "'" and text[1:].startswith(ESCAPED_PREFIXES) else text
