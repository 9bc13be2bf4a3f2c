"""Check the signature and seal images printed on dispatches: transparent PNGs of the right ink colour.

Also draw the demo's sample signature and seal, marked "MẪU" (sample), so a development PDF shows the signature
block as Decree 30 lays it out without anyone's real signature or seal.
"""

from __future__ import annotations

import base64
import io
import math
from typing import cast

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

MAX_IMAGE_BYTES = 2 * 1024 * 1024


def ink_colour(image: Image.Image) -> tuple[float, float, float]:
    """Return the mean RGB of the image's visible (not transparent, not white) pixels."""
    rgba = image.convert("RGBA")
    rgba.thumbnail((200, 200))
    pixels = cast("tuple[tuple[int, int, int, int], ...]", rgba.get_flattened_data())  # RGBA: four bands a pixel
    inked = [(r, g, b) for r, g, b, a in pixels if a > 128 and min(r, g, b) < 230]
    if not inked:
        return (255.0, 255.0, 255.0)
    red, green, blue = (sum(channel) / len(inked) for channel in zip(*inked, strict=True))
    return (red, green, blue)


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


# --- Samples for the demo ----------------------------------------------------------------------------------------
SAMPLE_BLUE, SAMPLE_RED = (22, 48, 170, 255), (205, 24, 32, 255)
FONT_PATHS = [
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf",  # fonts-liberation2, as the PDF uses
    "/usr/share/fonts/truetype/croscore/Arimo-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
]


def sample_font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Return a bold font with Vietnamese letters (Pillow's own font when no system font is there)."""
    for path in FONT_PATHS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def sample_signature_png() -> bytes:
    """Return a blue handwritten-looking stroke on a transparent background, labelled "MẪU" (sample)."""
    image = Image.new("RGBA", (600, 240), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    stroke = [(40 + x, 130 - 55 * math.sin(x / 38) * math.exp(-x / 700) - x / 9) for x in range(0, 480, 4)]
    draw.line(stroke, fill=SAMPLE_BLUE, width=7, joint="curve")
    draw.line([(70, 175), (520, 150)], fill=SAMPLE_BLUE, width=5)
    draw.text((300, 205), "MẪU CHỮ KÝ", font=sample_font(30), fill=SAMPLE_BLUE, anchor="mm")
    return png_bytes(image)


def sample_seal_png(issuer_name: str) -> bytes:
    """Return a red round seal with the issuer's name around the rim and "MẪU" (sample) in the middle."""
    size = 600
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    centre = size / 2
    draw.ellipse((8, 8, size - 8, size - 8), outline=SAMPLE_RED, width=14)
    draw.ellipse((118, 118, size - 118, size - 118), outline=SAMPLE_RED, width=6)
    draw_text_around(image, issuer_name.upper(), centre, radius=centre - 62, font=sample_font(38))
    draw.text((centre, centre), "MẪU", font=sample_font(110), fill=SAMPLE_RED, anchor="mm")
    draw.text((centre, centre + 95), "CON DẤU MẪU", font=sample_font(30), fill=SAMPLE_RED, anchor="mm")
    return png_bytes(image)


def draw_text_around(image: Image.Image, text: str, centre: float, radius: float, font) -> None:
    """Write the text clockwise along the upper rim of a circle, each letter upright to the rim."""
    step = 300 / max(len(text), 1)  # degrees per letter, leaving a gap at the bottom
    for index, letter in enumerate(text):
        angle = -240 + step * (index + 0.5)  # from the lower left, over the top, to the lower right
        tile = Image.new("RGBA", (64, 64), (255, 255, 255, 0))
        ImageDraw.Draw(tile).text((32, 32), letter, font=font, fill=SAMPLE_RED, anchor="mm")
        tile = tile.rotate(-(angle + 90), resample=Image.Resampling.BICUBIC)
        x = centre + radius * math.cos(math.radians(angle)) - 32
        y = centre + radius * math.sin(math.radians(angle)) - 32
        image.alpha_composite(tile, (round(x), round(y)))
