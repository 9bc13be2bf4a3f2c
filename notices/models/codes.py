"""Verification codes of issued dispatches: pure helpers (the uniqueness check is on the dispatch queryset)."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L, so a code read aloud or off paper is typed right.
SHORT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SHORT_LENGTH = 10


def new_verification_code() -> str:
    """Return an unguessable code for the verification URL (192 random bits)."""
    return secrets.token_urlsafe(24)


def format_short_code(raw: str) -> str:
    """Return the short code grouped for reading: "K7QM-9XRT-PW"."""
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def random_short_code() -> str:
    """Return a random short code (about 50 random bits; the page is rate-limited), maybe used before."""
    return format_short_code("".join(secrets.choice(SHORT_ALPHABET) for _ in range(SHORT_LENGTH)))
