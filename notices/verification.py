"""Verification codes of issued dispatches, and what the public verification page tells about one."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from notices import signing
from notices.models import Dispatch, DispatchStatus
from notices.models.codes import format_short_code

log = logging.getLogger(__name__)


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
