"""With a time-stamping authority, issued PDFs are PAdES B-LTA: a signature timestamp, the certificates and OCSP/CRL
answers embedded, a document timestamp; they stay genuine after the signing certificate expires. A TSA that fails
is retried, one that stays down or hangs stops the issue with nothing stored.

The PKI, the TSA and the OCSP/CRL responders are real (tests/timestamping_pki.py: certomancer on 127.0.0.1).
"""

from __future__ import annotations

import datetime
import io
import shutil
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import DocumentSecurityStore, validate_pdf_signature, validate_pdf_timestamp
from weasyprint import HTML

from notices import issuing, signing
from notices.models import Appendix, DispatchStatus
from tests import timestamping_pki
from tests.conftest import approve
from tests.notices.conftest import stored_pdf

AFTER_EXPIRY = datetime.timedelta(days=timestamping_pki.SIGNER_DAYS_LEFT + 30)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    running = timestamping_pki.start(tmp_path_factory.mktemp("pki"))
    yield running
    running.stop()


@pytest.fixture
def long_term(settings, pki):
    """Sign with the test PKI's agency certificate and its TSA; trust its root (which issued the TSA's too)."""
    settings.SIGNING_PKCS12_PATH = str(pki.p12)
    settings.SIGNING_PKCS12_PASSWORD = timestamping_pki.PASSWORD.decode()
    settings.SIGNING_TRUSTED_ROOTS = str(pki.roots)
    settings.SIGNING_TSA_URL = pki.tsa_url
    settings.SIGNING_TSA_TIMEOUT, settings.SIGNING_TSA_RETRIES, settings.SIGNING_TSA_RETRY_DELAY = 2.0, 1, 0.05
    pki.outage.failures, pki.outage.hang, pki.outage.tsa_requests = 0, 0.0, 0
    yield pki
    pki.outage.failures, pki.outage.hang = 0, 0.0


@pytest.fixture
def issued(draft, clerk, long_term):
    """The draft, with one appendix, issued through issuing.issue while the TSA answers."""
    Appendix.objects.create(dispatch=draft, title="Danh sách", position=1,
                            file=SimpleUploadedFile("pl.pdf", long_term_pdf()))  # fmt: skip
    issuing.issue(approve(draft), clerk)
    draft.refresh_from_db()
    return draft


def long_term_pdf() -> bytes:
    return HTML(string="<p>Phụ lục: danh sách đơn vị nợ đóng</p>").write_pdf()


def appendix_pdf(dispatch) -> bytes:
    appendix = dispatch.appendices.get()
    with appendix.signed_file.open("rb") as handle:
        return handle.read()


def embedded_validation(data: bytes):
    """Return (signature status, document timestamp status, DSS) as pyHanko's validator sees them, offline, with
    only the data embedded in the file."""
    reader = PdfFileReader(io.BytesIO(data))
    dss = DocumentSecurityStore.read_dss(reader)
    context = dss.as_validation_context({"trust_roots": signing.trusted_roots(), "allow_fetching": False})
    signature = validate_pdf_signature(reader.embedded_regular_signatures[0], context)
    doc_timestamp = validate_pdf_timestamp(reader.embedded_timestamp_signatures[-1], context)
    return signature, doc_timestamp, dss


def test_the_issued_pdf_and_its_appendix_carry_both_timestamps_and_the_validation_data(issued):
    for data in (stored_pdf(issued), appendix_pdf(issued)):
        signature, doc_timestamp, dss = embedded_validation(data)
        assert signature.intact and signature.valid and signature.trusted
        assert signature.timestamp_validity is not None and signature.timestamp_validity.trusted
        assert doc_timestamp.intact and doc_timestamp.valid and doc_timestamp.trusted
        assert dss.ocsps and dss.crls, "the OCSP answer and the CRL fetched at signing time are embedded"
        names = {cert.subject.native["common_name"] for cert in dss.load_certs()}
        assert {"Test Root CA", "Test Time-Stamping Authority"} <= names
    assert issued.status == DispatchStatus.ISSUED and issued.number


def test_it_stays_genuine_after_the_certificate_expires(issued):
    data = stored_pdf(issued)
    later = datetime.datetime.now(datetime.UTC) + AFTER_EXPIRY
    verdict = signing.check_signature(data, at=later)
    assert verdict.ok and verdict.long_term
    assert verdict.timestamped_at is not None
    assert abs(verdict.timestamped_at - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=5)
    now = signing.check_signature(data)
    assert now.ok and now.long_term and now.covers_whole_file


def test_a_plain_signature_is_honestly_untrusted_after_the_certificate_expires(long_term, settings, issued):
    settings.SIGNING_TSA_URL = ""
    plain = signing.sign_pdf(long_term_pdf())
    later = datetime.datetime.now(datetime.UTC) + AFTER_EXPIRY
    assert signing.check_signature(plain).ok
    expired = signing.check_signature(plain, at=later)
    assert expired.intact and not expired.trusted and not expired.long_term and not expired.ok


def test_a_changed_byte_is_not_rescued_by_the_timestamps(issued):
    data = bytearray(stored_pdf(issued))
    position = data.index(b"/Author")
    data[position + 2] = ord("X") if data[position + 2] != ord("X") else ord("Y")
    verdict = signing.check_signature(bytes(data))
    assert verdict.signed and not verdict.intact and not verdict.ok


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="poppler-utils is not installed")
def test_pdfsig_sees_the_signature_and_the_document_timestamp(issued, tmp_path):
    (tmp_path / "issued.pdf").write_bytes(stored_pdf(issued))
    report = subprocess.run(["pdfsig", tmp_path / "issued.pdf"], capture_output=True, text=True, check=True).stdout
    first, second = report.split("Signature #2:")
    assert "Signature Field Name: ChuKySoCoQuan" in first and "ETSI.CAdES.detached" in first
    assert "Signature Validation: Signature is Valid." in first
    assert "Signer Certificate Common Name: Test Time-Stamping Authority" in second, "the document timestamp"
    assert "Signature #3:" not in report


def test_a_tsa_that_fails_once_is_retried(long_term, draft, clerk):
    long_term.outage.failures = 1
    issuing.issue(approve(draft), clerk)
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.ISSUED
    assert long_term.outage.tsa_requests >= 3, "the refused request, its retry, then the document timestamp"
    assert signing.check_signature(stored_pdf(draft)).long_term


def test_a_tsa_that_stays_down_stops_the_issue_with_nothing_stored(long_term, draft, clerk):
    long_term.outage.failures = 100
    with pytest.raises(signing.TimestampingUnavailable, match="did not answer after 2 attempts"):
        issuing.issue(approve(draft), clerk)
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.APPROVED and draft.number is None and not draft.pdf
    assert long_term.outage.tsa_requests == 2


def test_a_tsa_that_hangs_times_out(long_term, settings, draft, clerk):
    settings.SIGNING_TSA_TIMEOUT, settings.SIGNING_TSA_RETRIES = 0.3, 0
    long_term.outage.hang = 1.5
    with pytest.raises(signing.TimestampingUnavailable, match="did not answer after 1 attempts"):
        issuing.issue(approve(draft), clerk)
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.APPROVED and draft.number is None and not draft.pdf


def test_the_verification_page_tells_the_reader_when_it_was_time_stamped_and_that_it_lasts(client, settings, issued):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    upload = SimpleUploadedFile("cong-van.pdf", stored_pdf(issued), "application/pdf")
    html = client.post(f"/xac-thuc/{issued.verification_code}/", {"file": upload}).content.decode()
    assert 'data-signature="intact"' in html
    assert 'class="timestamped-at"' in html and 'class="long-term"' in html
    assert "Đóng dấu thời gian" in html and "sau khi chứng thư ký số hết hạn" in html
