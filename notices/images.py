"""Check the signature and seal images printed on dispatches: transparent PNGs of the right ink colour."""

from __future__ import annotations

import base64

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

MAX_IMAGE_BYTES = 2 * 1024 * 1024


def ink_colour(image: Image.Image) -> tuple[float, float, float]:
    """Return the mean RGB of the image's visible (not transparent, not white) pixels."""
    rgba = image.convert("RGBA")
    rgba.thumbnail((200, 200))
    inked = [(r, g, b) for r, g, b, a in rgba.get_flattened_data() if a > 128 and min(r, g, b) < 230]
    if not inked:
        return (255.0, 255.0, 255.0)
    return tuple(sum(channel) / len(inked) for channel in zip(*inked, strict=True))  # type: ignore[return-value]


def open_png(upload) -> Image.Image:
    """Return the upload as a Pillow image, refusing anything that is not a PNG of a sensible size."""
    if upload.size > MAX_IMAGE_BYTES:
        raise ValidationError(_("The image is larger than 2 MB."))
    upload.seek(0)
    try:
        image = Image.open(upload)
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValidationError(_("The file is not a readable image.")) from exc
    finally:
        upload.seek(0)
    if image.format != "PNG":
        raise ValidationError(_("The image must be a PNG file (with a transparent background)."))
    return image


def validate_signature_image(upload) -> None:
    """Refuse a signature image that is not a PNG drawn in blue ink."""
    red, green, blue = ink_colour(open_png(upload))
    if not (blue > red + 20 and blue > green):
        raise ValidationError(_("A signature image must be drawn in blue ink."))


def validate_seal_image(upload) -> None:
    """Refuse a seal image that is not a PNG printed in red."""
    red, green, blue = ink_colour(open_png(upload))
    if not (red > green + 40 and red > blue + 40):
        raise ValidationError(_("A seal image must be red."))


def data_uri(field_file) -> str:
    """Return a stored PNG as a data: URI (so the renderer never reads outside its static files)."""
    if not field_file:
        return ""
    field_file.open("rb")
    with field_file:
        return "data:image/png;base64," + base64.b64encode(field_file.read()).decode("ascii")
