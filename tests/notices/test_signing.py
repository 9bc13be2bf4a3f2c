"""The issued PDF is signed (PAdES B-B, SHA-256) over the whole file; any change breaks the signature."""

from __future__ import annotations

import datetime
import io
import shutil
import subprocess

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from weasyprint import HTML

from notices import issuing, signing
from notices.models import RegisterCounter
from notices.models.dispatch import DispatchError
from tests.conftest import approve
from tests.notices.conftest import forge, issue_as_number, stored_pdf


@pytest.fixture
def signed(draft, clerk, monkeypatch, signing_certificate):
    dispatch = issue_as_number(draft, clerk, 5, monkeypatch)
    return dispatch, stored_pdf(dispatch)


def flip_a_signed_byte(data: bytes) -> bytes:
    """Return the PDF with one byte of its first signed range (the document itself) changed."""
    changed = bytearray(data)
    position = data.index(b"/Author")  # inside the original document, before the signature's byte range gap
    changed[position + 2] = ord("X") if changed[position + 2] != ord("X") else ord("Y")
    return bytes(changed)


def test_the_stored_pdf_is_signed_pades_sha256_over_the_whole_file(signed):
    dispatch, data = signed
    (signature,) = PdfFileReader(io.BytesIO(data)).embedded_signatures
    status = validate_pdf_signature(signature, signing.validation_context())
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.md_algorithm == "sha256"
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert "Bảo hiểm xã hội thành phố Hà Nội" in status.signing_cert.subject.human_friendly
    assert dispatch.pdf_sha256 == __import__("hashlib").sha256(data).hexdigest(), "the signed bytes are stored"


def test_one_changed_byte_breaks_the_signature(signed):
    _, data = signed
    assert signing.check_signature(data).ok
    broken = signing.check_signature(flip_a_signed_byte(data))
    assert broken.signed and not broken.intact


def test_bytes_appended_after_signing_are_not_covered(signed):
    _, data = signed
    appended = signing.check_signature(data + b"\n% appended\n")
    assert appended.intact and not appended.covers_whole_file and not appended.ok


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils is not installed")
def test_poppler_pdfsig_reports_the_signature_valid(signed, tmp_path):
    _, data = signed
    (tmp_path / "signed.pdf").write_bytes(data)
    (tmp_path / "altered.pdf").write_bytes(flip_a_signed_byte(data))
    good = subprocess.run(["pdfsig", tmp_path / "signed.pdf"], capture_output=True, text=True, check=True).stdout
    bad = subprocess.run(["pdfsig", tmp_path / "altered.pdf"], capture_output=True, text=True).stdout
    assert "Signature Validation: Signature is Valid." in good
    assert "Total document signed" in good
    assert "Signature is Valid." not in bad


def test_an_unusable_certificate_is_reported_clearly(settings, tmp_path):
    settings.SIGNING_PKCS12_PATH = str(tmp_path / "missing.p12")
    with pytest.raises(signing.SigningError, match="does not exist"):
        signing.sign_pdf(b"%PDF-1.7")


def test_without_a_certificate_the_pdf_is_kept_unsigned(settings):
    settings.SIGNING_PKCS12_PATH = ""
    assert signing.sign_if_configured(b"%PDF-1.7 unsigned") == b"%PDF-1.7 unsigned"


@pytest.mark.django_db
def test_a_wrong_certificate_password_stops_issuing_and_loses_no_number(draft, clerk, settings, signing_certificate):
    settings.SIGNING_PKCS12_PASSWORD = "not-the-password"
    with pytest.raises(DispatchError, match="signing certificate"):
        issuing.issue(approve(draft), clerk)
    draft.refresh_from_db()
    assert draft.status == "approved" and draft.number is None and not draft.pdf
    assert not RegisterCounter.objects.filter(last_number__gt=0).exists()


def test_a_signature_from_an_untrusted_root_is_refused(genuine, second_root):
    forged = forge(HTML(string="<p>Công văn giả</p>").write_pdf(), second_root[0])
    verdict = signing.check_signature(forged)
    assert verdict.signed and verdict.intact and verdict.covers_whole_file
    assert not verdict.trusted and not verdict.ok
    assert "Bảo hiểm xã hội thành phố Hà Nội" in verdict.signer


def test_a_signature_that_chains_to_the_trusted_root_is_genuine_and_says_who_and_when(genuine):
    verdict = signing.check_signature(stored_pdf(genuine))
    assert verdict.ok and verdict.trusted
    assert verdict.signer.startswith(
        "Bảo hiểm xã hội thành phố Hà Nội (THỬ NGHIỆM)"
    )  # the development certificate says so
    assert abs(verdict.signed_at - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(hours=1)  # real clock


def test_nothing_is_trusted_when_no_root_and_no_certificate_is_configured(genuine, settings):
    settings.SIGNING_TRUSTED_ROOTS = settings.SIGNING_PKCS12_PATH = ""
    assert not signing.check_signature(stored_pdf(genuine)).trusted
