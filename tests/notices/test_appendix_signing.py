"""Appendices signed by the agency (Decree 30, Appendix I, II.8.b): stamped with the number and signing time, then
signed; the signed copy is stored, mailed and recognised by the verification page."""

from __future__ import annotations

import datetime
import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pypdf import PdfReader, PdfWriter
from weasyprint import HTML

from notices import signing, verification
from notices.models import Appendix
from tests.notices.conftest import issue_as_number, open_pdf

MM = 72 / 25.4
APPENDIX_HTML = (
    "<style>@page {{ size: {size}; margin: 25mm }}</style><h1>Danh sách đơn vị nợ đóng</h1><p>1. Công ty A</p>"
)


def appendix_pdf(size: str = "A4") -> bytes:
    return HTML(string=APPENDIX_HTML.format(size=size)).write_pdf()


@pytest.fixture
def issued(draft, clerk, monkeypatch, signing_certificate):
    """Issue number 05 a moment ago, Hà Nội time (the development certificate is valid from yesterday)."""
    now = timezone.localtime()
    return issue_as_number(draft, clerk, 5, monkeypatch, when=(now.year, now.month, now.day, now.hour, now.minute))


def attach(dispatch, data: bytes, position: int = 1) -> Appendix:
    return Appendix.objects.create(
        dispatch=dispatch, title="Danh sách đơn vị", position=position, file=SimpleUploadedFile("pl.pdf", data)
    )


def stamp_lines(page) -> list[dict]:
    """Return the stamp's text lines: those in the top 20 mm of the page."""
    return [found for found in page.extract_text_lines() if found["bottom"] < 20 * MM]


def expected_time() -> str:
    """Return the signing time the stamp must print: the (frozen) clock, to the second, at +07:00."""
    return timezone.localtime(timezone.now()).replace(microsecond=0).isoformat()


def test_the_stamp_prints_number_and_signing_time_top_right_of_page_1_in_10_pt_upright_black(issued):
    signed = signing.sign_appendix(attach(issued, appendix_pdf()), issued)
    with open_pdf(signed) as pdf:
        page = pdf.pages[0]
        number, moment = stamp_lines(page)
        body = page.extract_text()
        pages = len(pdf.pages)
    assert number["text"] == "05/BHXH-QLT"
    assert moment["text"] == expected_time()
    assert moment["text"].endswith("+07:00"), "Vietnam time, ISO 8601"
    for found in (number, moment):
        for char in found["chars"]:
            assert round(char["size"], 1) == 10.0
            assert "LiberationSerif" in char["fontname"] or "Tinos" in char["fontname"]
            assert "Bold" not in char["fontname"] and "Italic" not in char["fontname"], "upright, not bold"
            assert char["non_stroking_color"] in ((0,), (0, 0, 0), [0], [0, 0, 0]), "black"
            assert char["upright"]
        assert found["x1"] > page.width - 25 * MM and found["x0"] > page.width / 2, "at the right"
    assert "Danh sách đơn vị nợ đóng" in body and pages == 1, "the appendix itself is untouched"


def test_the_appendix_is_signed_by_the_agency_over_the_whole_file_at_the_stamped_time(issued):
    signed = signing.sign_appendix(attach(issued, appendix_pdf()), issued)
    (signature,) = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    status = validate_pdf_signature(signature, signing.validation_context())
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert "Bảo hiểm xã hội thành phố Hà Nội" in status.signing_cert.subject.human_friendly
    assert status.signer_reported_dt == datetime.datetime.fromisoformat(expected_time())
    assert signing.check_signature(signed).ok


@pytest.mark.parametrize("rotate", [0, 90])
def test_a_landscape_or_rotated_appendix_gets_its_stamp_at_the_top_right_as_read(issued, rotate):
    data = appendix_pdf("A4 landscape" if rotate == 0 else "A4")
    if rotate:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
        writer.pages[0].rotate(rotate)  # a portrait page shown turned: the reader sees landscape
        buffer = io.BytesIO()
        writer.write(buffer)
        data = buffer.getvalue()
    signed = signing.sign_appendix(attach(issued, data), issued)
    assert PdfReader(io.BytesIO(signed)).pages[0].rotation == 0
    with open_pdf(signed) as pdf:
        page = pdf.pages[0]
        number, moment = stamp_lines(page)
    assert page.width > page.height, "read as landscape"
    assert number["text"] == "05/BHXH-QLT" and number["x1"] > page.width - 25 * MM


def test_the_signed_copy_is_stored_and_is_what_is_mailed(issued):
    original = appendix_pdf()
    appendix = attach(issued, original)
    uploaded = appendix.read()  # the upload as stored: rewritten without active content
    assert appendix.read_mailed() == uploaded, "before issue, the upload"
    signed = signing.sign_appendix(appendix, issued)
    appendix.store_signed(signed)
    appendix.refresh_from_db()
    assert appendix.read_mailed() == signed and appendix.read() == uploaded
    assert appendix.signed_sha256 == hashlib.sha256(signed).hexdigest()
    stored = appendix.signed_file.name.rsplit("/", 1)[-1]
    assert len(stored) >= 24 and "BHXH" not in stored and not stored.startswith("pl"), "a random, unguessable name"
    assert appendix.mailed_file.name == appendix.signed_file.name


def test_the_verification_finds_the_dispatch_of_a_signed_appendix(issued, draft):
    appendix = attach(issued, appendix_pdf())
    appendix.store_signed(signing.sign_appendix(appendix, issued))
    found = verification.find_appendix(appendix.read_mailed())
    assert found is not None
    assert (found.dispatch, found.appendix) == (issued, appendix)
    assert found.signature.ok and found.sha256 == appendix.signed_sha256
    assert verification.find_appendix(appendix.read()) is None, "the unsigned upload is not the issued copy"
    assert verification.find_appendix(appendix.read_mailed() + b"\n") is None


def test_without_a_certificate_the_appendix_is_stamped_and_left_unsigned(issued, settings):
    settings.SIGNING_PKCS12_PATH = ""
    stamped = signing.sign_appendix(attach(issued, appendix_pdf()), issued)
    assert not PdfFileReader(io.BytesIO(stamped)).embedded_signatures
    with open_pdf(stamped) as pdf:
        assert [found["text"] for found in stamp_lines(pdf.pages[0])][0] == "05/BHXH-QLT"


def test_the_command_writes_the_appendix_copy_that_is_mailed(issued, tmp_path):
    appendix = attach(issued, appendix_pdf(), position=2)
    appendix.store_signed(signing.sign_appendix(appendix, issued))
    output = tmp_path / "pl2.pdf"
    call_command("render_dispatch", str(issued.pk), "--appendix", "2", "--output", str(output), stdout=io.StringIO())
    assert output.read_bytes() == appendix.read_mailed()
    with pytest.raises(CommandError, match="no appendix 3"):
        call_command("render_dispatch", str(issued.pk), "--appendix", "3", "--output", str(output))


def test_an_appendix_of_an_unnumbered_dispatch_is_never_signed(draft, signing_certificate):
    with pytest.raises(signing.SigningError, match="no number"):
        signing.sign_appendix(attach(draft, appendix_pdf()), draft)
