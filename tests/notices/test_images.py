"""Signature (blue) and seal (red) images: checked on upload, printed in the signature block."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from notices.images import validate_seal_image, validate_signature_image
from tests.notices.conftest import issue_as_number, open_pdf, stored_pdf


def ink_png(colour: tuple[int, int, int], kind: str = "PNG", seal: bool = False) -> SimpleUploadedFile:
    """Return an upload of a transparent image drawn in one ink colour (a ring for a seal, strokes for a signature)."""
    image = Image.new("RGBA" if kind == "PNG" else "RGB", (400, 400 if seal else 160), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    if seal:
        draw.ellipse((10, 10, 390, 390), outline=(*colour, 255), width=18)
        draw.ellipse((80, 80, 320, 320), outline=(*colour, 255), width=8)
    else:
        draw.line([(20, 120), (90, 30), (140, 130), (230, 40), (380, 110)], fill=(*colour, 255), width=9)
    buffer = io.BytesIO()
    image.save(buffer, kind)
    return SimpleUploadedFile(f"ink.{kind.lower()}", buffer.getvalue(), f"image/{kind.lower()}")


BLUE, RED = (20, 40, 200), (210, 20, 30)


def test_a_blue_png_signature_and_a_red_png_seal_are_accepted():
    validate_signature_image(ink_png(BLUE))
    validate_seal_image(ink_png(RED, seal=True))


@pytest.mark.parametrize(
    ("validator", "upload", "message"),
    [
        (validate_signature_image, ink_png(RED), "blue"),
        (validate_seal_image, ink_png(BLUE, seal=True), "red"),
        (validate_signature_image, ink_png(BLUE, kind="JPEG"), "PNG"),
        (validate_seal_image, SimpleUploadedFile("seal.png", b"%PDF-1.7 not an image"), "not a readable image"),
    ],
)
def test_a_wrong_image_is_refused_with_a_clear_message(validator, upload, message):
    with pytest.raises(ValidationError, match=message):
        validator(upload)


def test_the_signature_and_the_seal_overlap_in_the_signature_block(draft, clerk, monkeypatch):
    draft.signer.signature_image.save("chu-ky.png", ink_png(BLUE))
    draft.issuer.seal_image.save("con-dau.png", ink_png(RED, seal=True))
    with open_pdf(stored_pdf(issue_as_number(draft, clerk, 1, monkeypatch))) as pdf:
        page = pdf.pages[-1]
        seal, signature = sorted(page.images, key=lambda image: image["width"])
        (name,) = [found for found in page.extract_text_lines() if found["text"] == "Nguyễn Văn Minh"]
    assert abs(seal["width"] - 36 * 72 / 25.4) < 1, "the seal is printed at its true size"
    assert seal["x0"] < signature["x0"] + signature["width"] / 3 < seal["x1"], "the seal covers the left third"
    assert signature["bottom"] <= name["top"], "the signature sits above the signer's name"
