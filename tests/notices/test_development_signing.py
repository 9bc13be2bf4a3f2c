"""Development signs too: `make run` issues PDFs signed by a development certificate, trusted only in development."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from PIL import Image
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from notices import issuing, signing
from notices.images import validate_seal_image, validate_signature_image
from notices.models import Dispatch, Issuer, Signer
from tests.notices.conftest import open_pdf, stored_pdf


@pytest.fixture
def development(settings, tmp_path):
    """DEBUG on and no certificate configured, as on a fresh clone running `make run`."""
    settings.DEBUG = True
    settings.SIGNING_PKCS12_PATH = settings.SIGNING_TRUSTED_ROOTS = ""
    settings.SIGNING_DEV_DIR = tmp_path / "signing"
    return settings


def issue_the_demo_sample() -> bytes:
    call_command("seed_demo", stdout=io.StringIO())
    sample = Dispatch.objects.get(status="approved")
    issuing.issue(sample, get_user_model().objects.get(username="vanthu"))
    sample.refresh_from_db()
    return stored_pdf(sample)


@pytest.mark.django_db
def test_the_demo_sample_is_signed_by_a_development_certificate_and_shows_signature_and_seal(development):
    pdf = issue_the_demo_sample()
    (embedded,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    status = validate_pdf_signature(embedded, ValidationContext(trust_roots=signing.trusted_roots()))
    assert status.intact and status.valid and status.trusted
    assert "THỬ NGHIỆM" in status.signing_cert.subject.human_friendly, "named as a development certificate"
    assert (development.SIGNING_DEV_DIR / "signing.p12").is_file(), "made on first use, under SIGNING_DEV_DIR"
    with open_pdf(pdf) as document:
        assert len(document.pages[-1].images) >= 2, "the sample signature and seal are printed"


@pytest.mark.django_db
def test_the_demo_gets_sample_images_in_the_right_inks_marked_as_samples(development):
    call_command("seed_demo", stdout=io.StringIO())
    seal = Issuer.objects.get().seal_image
    validate_seal_image(seal)
    for signer in Signer.objects.all():
        validate_signature_image(signer.signature_image)
    with Image.open(seal) as image:
        assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0, "transparent around the seal"
    first = Issuer.objects.get().seal_image.name
    call_command("seed_demo", stdout=io.StringIO())
    assert Issuer.objects.get().seal_image.name == first, "seeding again keeps the images"


def pem_root(path) -> bytes:
    (root,) = load_certs_from_pemder([str(path)])
    return root.dump()


def test_the_development_root_is_made_once_reused_and_trusted(development):
    root_path = signing.development_certificate()[1]
    first = root_path.read_bytes()
    assert signing.development_certificate()[1].read_bytes() == first
    assert [root.dump() for root in signing.trusted_roots()] == [pem_root(root_path)]


def test_with_debug_off_and_no_certificate_nothing_is_signed_or_trusted(settings, tmp_path):
    settings.DEBUG = False
    settings.SIGNING_PKCS12_PATH = settings.SIGNING_TRUSTED_ROOTS = ""
    settings.SIGNING_DEV_DIR = tmp_path / "signing"
    assert signing.sign_if_configured(b"%PDF-1.7 unsigned") == b"%PDF-1.7 unsigned"
    assert signing.trusted_roots() == []
    assert not (tmp_path / "signing").exists()


def test_configured_trusted_roots_replace_the_development_root(development, tmp_path):
    _, other_root = signing.create_development_certificates(tmp_path / "other", "pw")
    development.SIGNING_TRUSTED_ROOTS = str(other_root)
    assert [root.dump() for root in signing.trusted_roots()] == [pem_root(other_root)]
    assert pem_root(signing.development_certificate()[1]) != pem_root(other_root)
