"""Verification codes of issued dispatches, and what the public verification page tells about one."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from notices import signing
from notices.models import Appendix, Dispatch, DispatchStatus

log = logging.getLogger(__name__)

# No 0/O, 1/I/L, so a code read aloud or off paper is typed right.
SHORT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SHORT_LENGTH = 10


class Validity:
    VALID = "valid"
    RECALLED = "recalled"
    REPLACED = "replaced"


@dataclass(frozen=True)
class UploadCheck:
    """The verdict on an uploaded copy: identical bytes, and the state of its signature."""

    identical: bool
    sha256: str
    signature: signing.SignatureCheck


def new_verification_code() -> str:
    """Return an unguessable code for the verification URL (192 random bits)."""
    return secrets.token_urlsafe(24)


def format_short_code(raw: str) -> str:
    """Return the short code grouped for reading: "K7QM-9XRT-PW"."""
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def new_short_code() -> str:
    """Return a fresh short code (about 50 random bits; the page is rate-limited) not used before."""
    while True:
        code = format_short_code("".join(secrets.choice(SHORT_ALPHABET) for _ in range(SHORT_LENGTH)))
        if not Dispatch.objects.filter(short_code=code).exists():
            return code


def normalize_short_code(typed: str) -> str:
    """Return a typed short code in its stored form (case, spaces and dashes do not matter)."""
    raw = "".join(ch for ch in typed.upper() if ch.isalnum())
    return format_short_code(raw)


def find_dispatch(code: str) -> Dispatch | None:
    """Return the issued dispatch with this verification code or short code, if any."""
    code = code.strip()
    if not code or len(code) > 64:
        return None
    issued = Dispatch.objects.issued().exclude(verification_code="").select_related("issuer", "signer")
    found = issued.filter(verification_code=code).first()
    return found or issued.filter(short_code=normalize_short_code(code)).first()


def validity(dispatch: Dispatch) -> str:
    """Return whether the dispatch is valid, recalled, or replaced by a later issued one."""
    if dispatch.status == DispatchStatus.RECALLED:
        return Validity.RECALLED
    if dispatch.replacements.issued().exists():
        return Validity.REPLACED
    return Validity.VALID


def check_upload(dispatch: Dispatch, data: bytes) -> UploadCheck:
    """Return whether an uploaded PDF is byte-identical to the genuine one and whether its signature holds."""
    digest = hashlib.sha256(data).hexdigest()
    return UploadCheck(
        identical=secrets.compare_digest(digest, dispatch.pdf_sha256),
        sha256=digest,
        signature=signing.check_signature(data),
    )


@dataclass(frozen=True)
class AppendixCheck:
    """An uploaded file found to be the signed copy of an issued dispatch's appendix, and its signature's state."""

    appendix: Appendix
    dispatch: Dispatch
    sha256: str
    signature: signing.SignatureCheck


def find_appendix(data: bytes) -> AppendixCheck | None:
    """Return which issued dispatch an uploaded file is the signed appendix of (by its SHA-256), if any."""
    digest = hashlib.sha256(data).hexdigest()
    appendix = (
        Appendix.objects.filter(signed_sha256=digest, dispatch__number__isnull=False)
        .select_related("dispatch__issuer", "dispatch__drafting_unit", "dispatch__signer")
        .first()
    )
    if appendix is None:
        return None
    return AppendixCheck(appendix, appendix.dispatch, digest, signing.check_signature(data))


def rate_limited(ip: str) -> bool:
    """Count one look-up from this address; return True once it has made too many in the window."""
    key = f"verify-rate:{ip}"
    try:
        cache.add(key, 0, timeout=settings.VERIFY_RATE_WINDOW_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:  # the key expired between add and incr
            cache.set(key, 1, timeout=settings.VERIFY_RATE_WINDOW_SECONDS)
            count = 1
    except Exception:  # noqa: BLE001 - a cache outage must not take the public page down
        log.warning("The verification rate limiter's cache is unavailable; look-up allowed.", exc_info=True)
        return False
    return count > settings.VERIFY_RATE_LIMIT
