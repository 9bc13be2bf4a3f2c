"""Check the directory's email addresses: their syntax (no DNS look-up) and letters disguised as Latin ones.

A Cyrillic "а" in "аdmin@" or "һ" in "bһxh.example.vn" looks Latin but is another address: a part of an address that
mixes scripts is refused. An address written in one script (иван@пример.рф) passes, as do the mixes that Japanese,
Chinese and Korean writing use (UTS #39, "highly restrictive").
"""

from __future__ import annotations

import functools
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email
from email_validator.syntax import validate_email_local_part

SCRIPT_ALIASES = {"CJK": "HAN", "KATAKANA-HIRAGANA": "KATAKANA", "HALFWIDTH": "KATAKANA"}
ALLOWED_MIXES = [
    {"LATIN", "HAN", "HIRAGANA", "KATAKANA"},
    {"LATIN", "HAN", "BOPOMOFO"},
    {"LATIN", "HAN", "HANGUL"},
]


def check_address(address: str) -> None:
    """Raise EmailNotValidError unless the address's syntax is valid and no part of it mixes scripts.

    email-validator's full check costs ~90 µs, mostly on the domain, and a directory has few domains: the domain is
    checked once (cached) and the local part on its own. Unusual addresses take the full check.
    """
    local, at, domain = address.rpartition("@")
    if not at or '"' in address or "@" in local or len(local) > 64 or len(address) > 254:
        validate_email(address, check_deliverability=False)
    else:
        check_domain(domain)
        validate_email_local_part(local)
    for part in (local, *domain.split(".")):
        check_one_script(part)


@functools.lru_cache(maxsize=10_000)
def check_domain(domain: str) -> None:
    validate_email(f"postmaster@{domain}", check_deliverability=False)


def check_one_script(part: str) -> None:
    """Raise EmailNotValidError naming the letters of `part` that are not in its main script, if it mixes scripts."""
    if part.isascii():
        return
    letters = {ch: script(ch) for ch in part if script(ch)}
    found = set(letters.values())
    if len(found) < 2 or any(found <= allowed for allowed in ALLOWED_MIXES):
        return
    counts = [(list(letters.values()).count(name), name) for name in found]
    main = max(counts)[1] if "LATIN" not in found else "LATIN"
    strangers = ", ".join(
        f"{ch} (U+{ord(ch):04X} {unicodedata.name(ch)})" for ch, name in letters.items() if name != main
    )
    raise EmailNotValidError(
        _("“%(part)s” mixes scripts: %(letters)s is not a %(script)s letter, though it may look like one.")
        % {"part": part, "letters": strangers, "script": main.title()}  # fmt: skip
    )


def script(ch: str) -> str:
    """Return the script of a letter or non-ASCII digit ("LATIN", "CYRILLIC", "HAN", ...), or "" for anything else."""
    if ch.isascii():
        return "LATIN" if ch.isalpha() else ""
    category = unicodedata.category(ch)
    if category not in ("Lu", "Ll", "Lt", "Lo", "Nd"):
        return ""
    word = unicodedata.name(ch, "").split(" ", 1)[0]
    return SCRIPT_ALIASES.get(word, word)


def validate_address(value: str) -> None:
    """Django validator: refuse an address whose parts mix scripts (the form field checks the syntax)."""
    local, _at, domain = value.strip().lower().rpartition("@")
    try:
        for part in (local, *domain.split(".")):
            check_one_script(part)
    except EmailNotValidError as exc:
        raise ValidationError(str(exc), code="mixed_scripts") from exc
