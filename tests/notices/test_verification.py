"""What a verification code names and what the page tells about it (notices/verification.py), called directly."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from notices import verification
from notices.models import Dispatch, DispatchStatus
from notices.verification import Validity
from tests.notices.conftest import issue_as_number, stored_pdf


def test_a_code_is_found_however_the_short_one_is_typed(genuine):
    typed = genuine.short_code.replace("-", " ").lower()
    assert verification.normalize_short_code(typed) == genuine.short_code
    assert verification.find(typed).dispatch == genuine
    assert verification.find(genuine.verification_code).code == genuine.verification_code
    assert verification.find("") is None and verification.find("A" * 65) is None


def test_a_dispatch_that_is_not_issued_is_never_found(draft):
    Dispatch.objects.filter(pk=draft.pk).update(verification_code="b" * 40, short_code="AAAA-BBBB-CC")
    assert verification.find("b" * 40) is None and verification.find("AAAA-BBBB-CC") is None


def test_a_dispatch_is_replaced_only_once_its_replacement_is_issued(genuine, clerk, monkeypatch):
    replacement = Dispatch.objects.create(
        issuer=genuine.issuer, drafting_unit=genuine.drafting_unit, signer=genuine.signer,
        subject="thay thế", body="<p>Nội dung đúng./.</p>", replaces=genuine,
    )  # fmt: skip
    assert verification.validity(genuine) == Validity.VALID and verification.replacement_of(genuine) is None
    issue_as_number(replacement, clerk, 6, monkeypatch)
    assert verification.validity(genuine) == Validity.REPLACED
    assert (
        verification.replacement_of(genuine) == replacement and verification.replaced_dispatch(replacement) == genuine
    )
    genuine.status = DispatchStatus.RECALLED
    assert verification.validity(genuine) == Validity.RECALLED


def test_an_upload_is_identical_only_when_every_byte_is(genuine):
    genuine_pdf = stored_pdf(genuine)
    assert verification.check_upload(genuine, genuine_pdf).identical
    altered = verification.check_upload(genuine, genuine_pdf + b"\n")
    assert not altered.identical and altered.sha256 != genuine.pdf_sha256


@pytest.mark.django_db
def test_only_unknown_codes_count_towards_an_addresss_limit(settings):
    settings.VERIFY_RATE_LIMIT = 2
    address = "192.0.2.44"
    cache.delete(verification.failure_key(address))
    try:
        verification.count_failure(address)
        assert not verification.rate_limited(address)
        verification.count_failure(address)
        assert verification.rate_limited(address) and not verification.rate_limited("192.0.2.45")
    finally:
        cache.delete(verification.failure_key(address))
