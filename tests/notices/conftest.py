"""Fixtures of the document and audit tests: a signing certificate, issuing helpers, a small PDF, an audit chain."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pdfplumber
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from weasyprint import HTML

from notices import audit, issuing
from notices.models import Appendix, Dispatch, RegisterCounter
from notices.signing import configured_signer, create_development_certificates
from tests.conftest import approve, make_group

PASSWORD = "test-signing-password"


@pytest.fixture(scope="session")
def dev_certificate(tmp_path_factory) -> tuple[Path, Path]:
    """Return (PKCS#12, root PEM) made by the same code as `manage.py create_dev_certificate`."""
    return create_development_certificates(tmp_path_factory.mktemp("signing"), PASSWORD)


@pytest.fixture
def signing_certificate(settings, dev_certificate) -> Path:
    """Configure the development certificate as the agency's signing certificate, and trust its root."""
    settings.SIGNING_PKCS12_PATH = str(dev_certificate[0])
    settings.SIGNING_TRUSTED_ROOTS = str(dev_certificate[1])
    settings.SIGNING_PKCS12_PASSWORD = PASSWORD
    configured_signer()  # fail here, not in the test, if the certificate is unusable
    return dev_certificate[0]


def at_hanoi_time(monkeypatch, *args: int) -> datetime.datetime:
    """Make `timezone.now()` return the given Hà Nội wall-clock time; return it."""
    moment = timezone.make_aware(datetime.datetime(*args))
    monkeypatch.setattr(timezone, "now", lambda: moment)
    return moment


def issue_as_number(dispatch: Dispatch, user, number: int, monkeypatch=None, when=(2026, 3, 5, 9, 30)) -> Dispatch:
    """Issue the dispatch on the given Hà Nội day so that it receives the given register number."""
    if monkeypatch is not None:
        at_hanoi_time(monkeypatch, *when)
    RegisterCounter.objects.update_or_create(
        issuer=dispatch.issuer, year=when[0], series="regular", defaults={"last_number": number - 1}
    )
    issuing.issue(approve(dispatch), user)
    dispatch.refresh_from_db()
    return dispatch


def stored_pdf(dispatch: Dispatch) -> bytes:
    """Return the stored PDF bytes of an issued dispatch."""
    dispatch.pdf.open("rb")
    with dispatch.pdf:
        return dispatch.pdf.read()


def open_pdf(data: bytes) -> pdfplumber.PDF:
    return pdfplumber.open(io.BytesIO(data))


@pytest.fixture(scope="module")
def small_pdf() -> bytes:
    """Return a one-page PDF rendered by WeasyPrint, as an appendix would be."""
    return HTML(string="<p>Phụ lục: danh sách đơn vị</p>").write_pdf()


def appendix(draft, name: str, data: bytes, position: int = 1) -> Appendix:
    """Return an unsaved appendix of the draft holding the uploaded bytes under the given file name."""
    return Appendix(dispatch=draft, title="Danh sách", position=position, file=SimpleUploadedFile(name, data))


@pytest.fixture(scope="session")
def second_root(tmp_path_factory):
    """A second development root and an agency certificate under it: same names as ours, not trusted."""
    return create_development_certificates(tmp_path_factory.mktemp("forger"), PASSWORD)


@pytest.fixture
def genuine(draft, clerk, monkeypatch, signing_certificate):
    """The draft issued as 05/BHXH-QLT on 5 March 2026 to two organisations, signed by the development certificate."""
    draft.groups.add(make_group(2))
    return issue_as_number(draft, clerk, 5, monkeypatch)


def forge(data: bytes, p12: Path) -> bytes:
    """Sign the PDF with another certificate (as a forger would, with the agency's name in it)."""
    signer = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=PASSWORD.encode())
    metadata = signers.PdfSignatureMetadata(field_name="GiaMao", md_algorithm="sha256")
    return signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data)), metadata, signer=signer).getvalue()


@pytest.fixture
def chain(clerk, draft):
    """Five events about the draft, recorded by the clerk."""
    return [audit.record(clerk, f"action-{i}", draft, {"n": i, "text": "Tiếng Việt"}) for i in range(5)]


@pytest.fixture
def trigger_off():
    """Let the test tamper with the table in SQL, as an attacker with database access would."""
    if connection.vendor != "postgresql":  # SQLite has no trigger to switch off
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE notices_auditevent DISABLE TRIGGER notices_auditevent_append_only")
    yield
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE notices_auditevent ENABLE TRIGGER notices_auditevent_append_only")
