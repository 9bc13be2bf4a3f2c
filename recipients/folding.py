"""Fold Vietnamese text for accent-insensitive search: "Ba Đình" and "ba dinh" fold alike."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Return `text` lower-cased without diacritics (đ becomes d), for search columns and queries."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
