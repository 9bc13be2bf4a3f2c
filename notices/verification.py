"""Verification codes of issued dispatches, and what the public verification page tells about one."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from config import sandbox
from notices.models import Appendix, Dispatch, DispatchCopy, DispatchStatus
from notices.models.codes import format_short_code
from notices.signing import SignatureVerdict

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
    signature: SignatureVerdict

    @property
    def genuine(self) -> bool:
        return self.identical and self.signature.ok


def normalize_short_code(typed: str) -> str:
    """Return a typed short code in its stored form (case, spaces and dashes do not matter)."""
    raw = "".join(ch for ch in typed.upper() if ch.isalnum())
    return format_short_code(raw)


def by_code(queryset, code: str):
    """Return the row of the queryset with this verification code or short code, if any."""
    code = code.strip()
    if not code or len(code) > 64:
        return None
    found = queryset.filter(verification_code=code).first()
    return found or queryset.filter(short_code=normalize_short_code(code)).first()


def find_dispatch(code: str) -> Dispatch | None:
    """Return the issued dispatch with this verification code or short code, if any."""
    return by_code(Dispatch.objects.issued().exclude(verification_code="").select_related("issuer", "signer"), code)


@dataclass(frozen=True)
class Found:
    """What a code names: an issued dispatch, or one organisation's copy of a personalised one."""

    dispatch: Dispatch
    copy: DispatchCopy | None = None

    @property
    def code(self) -> str:
        return self.copy.verification_code if self.copy else self.dispatch.verification_code


def find(code: str) -> Found | None:
    """Return the issued dispatch, or the copy of one, that carries this verification code or short code."""
    if (dispatch := find_dispatch(code)) is not None:
        return Found(dispatch)
    issued = DispatchCopy.objects.filter(dispatch__in=Dispatch.objects.issued())
    copy = by_code(issued.select_related("dispatch__issuer", "dispatch__signer"), code)
    return Found(copy.dispatch, copy) if copy is not None else None


def validity(dispatch: Dispatch) -> str:
    """Return whether the dispatch is valid, recalled, or replaced by a later issued one."""
    if dispatch.status == DispatchStatus.RECALLED:
        return Validity.RECALLED
    if dispatch.replacements.issued().exists():
        return Validity.REPLACED
    return Validity.VALID


def check_upload(dispatch: Dispatch, data: bytes, copy: DispatchCopy | None = None) -> UploadCheck:
    """Return whether an uploaded PDF is byte-identical to the genuine one (the copy's, when a copy's code was
    given: never another copy's) and whether its signature holds.

    A personalised dispatch was sent to nobody as its own PDF: under its own code, an upload is genuine when it
    is one of its copies (which the uploader holds already; the page names no organisation).
    """
    digest = hashlib.sha256(data).hexdigest()
    if copy is None and dispatch.personalised:
        identical = dispatch.personal_copies.filter(pdf_sha256=digest).exists()
    else:
        identical = secrets.compare_digest(digest, copy.pdf_sha256 if copy else dispatch.pdf_sha256)
    return UploadCheck(identical=identical, sha256=digest, signature=sandboxed_signature_check(data))


@dataclass(frozen=True)
class AppendixCheck:
    """An uploaded file found to be the signed copy of an issued dispatch's appendix, and its signature's state."""

    appendix: Appendix
    dispatch: Dispatch
    sha256: str
    signature: SignatureVerdict


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
    return AppendixCheck(appendix, appendix.dispatch, digest, sandboxed_signature_check(data))


def sandboxed_signature_check(data: bytes) -> SignatureVerdict:
    """Return signing.check_signature(data) computed in the sandbox: a hostile upload costs a child process, never us."""
    try:
        return sandbox.run("notices.signing:check_signature", data)
    except sandbox.SandboxError as exc:
        log.warning("An uploaded PDF's signature check was stopped: %s", exc.reason)
        return SignatureVerdict(signed=False, checked=False)


def replacement_of(dispatch: Dispatch) -> Dispatch | None:
    """Return the issued dispatch that replaces this one, if any (the latest)."""
    return dispatch.replacements.issued().exclude(verification_code="").order_by("issued_at").last()


def replaced_dispatch(dispatch: Dispatch) -> Dispatch | None:
    """Return the issued dispatch this one replaces, if any."""
    replaced = dispatch.replaces
    return replaced if replaced is not None and replaced.verification_code else None


def failure_key(ip: str) -> str:
    return f"verify-rate:{ip}"


def rate_limited(ip: str) -> bool:
    """Return True once this address has looked up too many unknown codes in the window.

    Only failed look-ups count: they are what guessing codes looks like. An office behind one shared address
    checks as many genuine dispatches as it likes.
    """
    try:
        return (cache.get(failure_key(ip)) or 0) >= settings.VERIFY_RATE_LIMIT
    except Exception:  # noqa: BLE001 - a cache outage must not take the public page down
        log.warning("The verification rate limiter's cache is unavailable; look-up allowed.", exc_info=True)
        return False


def count_failure(ip: str) -> None:
    """Count one look-up of an unknown code from this address."""
    key, window = failure_key(ip), settings.VERIFY_RATE_WINDOW_SECONDS
    try:
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # the key expired between add and incr
            cache.set(key, 1, timeout=window)
    except Exception:  # noqa: BLE001
        log.warning("The verification rate limiter's cache is unavailable; failure not counted.", exc_info=True)
