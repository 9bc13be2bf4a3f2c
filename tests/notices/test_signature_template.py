"""A PAdES signature made from a template (notices/signature_template.py): pyHanko's own bytes, kept only when proven."""

from __future__ import annotations

import asyncio
import datetime
import hashlib

import pytest
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

from notices import signature_template, signing


@pytest.fixture
def agency_signer(signing_certificate):
    return signing.AgencySigner.of(signing.configured_signer())  # its own templates: none made yet


def pyhanko_signer(agency: signing.AgencySigner) -> signers.SimpleSigner:
    return signers.SimpleSigner(signing_cert=agency.signing_cert, signing_key=agency.signing_key,
                                cert_registry=agency.cert_registry)  # fmt: skip


def cms_of(signer, digest: bytes, use_pades: bool = True, **settings):
    return asyncio.run(signer.async_sign(digest, "sha256", use_pades=use_pades,
                                         signed_attr_settings=PdfCMSSignedAttributes(**settings)))  # fmt: skip


def test_a_signature_from_the_template_is_byte_for_byte_the_one_pyhanko_makes(agency_signer):
    for text in (b"first copy", b"second copy"):
        digest = hashlib.sha256(text).digest()
        assert cms_of(agency_signer, digest).dump() == cms_of(pyhanko_signer(agency_signer), digest).dump()
    assert list(agency_signer.templates) == [("sha256", 32)]  # proven once, then filled


def test_signatures_that_differ_beyond_digest_and_value_prove_no_template(agency_signer):
    plain = pyhanko_signer(agency_signer)
    digests = (hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest())
    at = datetime.datetime(2026, 12, 4, 8, 0, tzinfo=datetime.UTC)
    # Outside PAdES the signing time is a signed attribute: two times make two different signatures.
    first = cms_of(plain, digests[0], use_pades=False, signing_time=at)
    second = cms_of(plain, digests[1], use_pades=False, signing_time=at + datetime.timedelta(hours=1))
    assert signature_template.template_of(first, second, digests) is None
    same_time = cms_of(plain, digests[1], use_pades=False, signing_time=at)
    assert signature_template.template_of(first, same_time, digests) is not None


def test_a_signature_outside_pades_is_left_to_pyhanko(agency_signer):
    digest = hashlib.sha256(b"x").digest()
    cms_of(agency_signer, digest, use_pades=False)
    assert agency_signer.templates == {}


def test_a_digest_of_another_length_is_refused(agency_signer):
    cms_of(agency_signer, hashlib.sha256(b"x").digest())
    template = agency_signer.templates[("sha256", 32)]
    with pytest.raises(ValueError):
        template.fill(b"short", lambda data: agency_signer.sign_raw(data, "sha256"))
