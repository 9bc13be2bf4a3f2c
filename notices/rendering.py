"""Turn a dispatch into PDF bytes with WeasyPrint, loading nothing but our own static files."""

from __future__ import annotations

import datetime
import io
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from pypdf import PdfReader, PdfWriter, Transformation
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from notices.images import data_uri

TEMPLATE = "notices/dispatch.html"
END_MARK = "./."
STAMP_TEMPLATE = "notices/appendix_stamp.html"
QR_QUIET_ZONE = 4  # modules of white around a QR code (ISO/IEC 18004), or phones misread it
QR_MASK = 1  # the QR codes' data mask, fixed (see qr_svg)


class ResourceRefused(ValueError):
    """A document asked for a resource outside our static files (remote, or elsewhere on disk)."""


class StaticOnlyFetcher(URLFetcher):
    """A WeasyPrint fetcher that serves `file:` URLs inside the static roots and refuses all else.

    A dispatch body is written by people and could carry a link to a remote image (a tracking
    beacon, or a request from our server to any address) or to a local file: neither may load.
    `data:` URLs are served because they read nothing: only our own template produces them (the
    sanitiser removes every image from the body).
    """

    def __init__(self, roots: list[Path] | None = None) -> None:
        super().__init__(allowed_protocols=["file", "data"])
        self.roots = [Path(root).resolve() for root in (roots or static_roots())]

    def fetch(self, url: str, headers=None):
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise ResourceRefused(f"Refused to load {url!r}: only the application's static files may be used.")
        path = Path(unquote(urlsplit(url).path)).resolve()
        if not any(path.is_relative_to(root) for root in self.roots):
            raise ResourceRefused(f"Refused to load {url!r}: it is outside the application's static files.")
        return super().fetch(url, headers)


def static_roots() -> list[Path]:
    """Return the folders WeasyPrint may read: our static sources (and the collected static root)."""
    return [*settings.STATICFILES_DIRS, settings.STATIC_ROOT]


def render_html(html: str) -> bytes:
    """Return PDF bytes for an HTML string whose relative URLs point into the static folder."""
    base_url = Path(settings.STATICFILES_DIRS[0]).resolve().as_uri() + "/"
    return HTML(string=html, base_url=base_url, url_fetcher=StaticOnlyFetcher()).write_pdf(pdf_version="1.7")


# An empty paragraph: what the editor leaves after the last words ("<p><br></p>"), or spaces only.
EMPTY_PARAGRAPH = r"<p>(?:\s|&nbsp;|&#160;|\u00a0|<br\s*/?>)*</p>"


def without_trailing_empty_paragraphs(body_html: str) -> str:
    """Return the body without the empty paragraphs at its end (they would push "./." onto a line of its own)."""
    return re.sub(rf"(?:\s*{EMPTY_PARAGRAPH})+\s*$", "", body_html.strip())


def with_end_mark(body_html: str) -> str:
    """Return the body with the closing "./." after its last words, unless the author already wrote it."""
    text = re.sub(r"<[^>]+>", "", body_html).replace("&nbsp;", " ").strip()
    if not text or text.endswith(END_MARK):
        return body_html
    last_close = body_html.rfind("</p>")
    if last_close == -1:
        return f"{body_html}<p>{END_MARK}</p>"
    return body_html[:last_close].rstrip().rstrip(".") + END_MARK + body_html[last_close:]


def replaced_dispatch(dispatch):
    """Return the issued dispatch this one replaces (printed "Thay thế Công văn số ... ngày ..."), else None."""
    replaced = dispatch.replaces
    return replaced if replaced is not None and replaced.number else None


def qr_svg(url: str) -> str:
    """Return an inline SVG QR code of the verification URL.

    The mask is fixed (QR_MASK): segno would otherwise try all eight and score each (ISO/IEC 18004's penalty
    rules), three quarters of the code's cost for every copy of a personalised dispatch; any mask gives a valid
    code, and the tests decode ours back with ZXing.
    """
    return segno.make(url, error="m", mask=QR_MASK).svg_inline(
        border=QR_QUIET_ZONE, scale=4, dark="black", light="white", omitsize=False
    )


@dataclass(frozen=True)
class CopyText:
    """What one organisation's copy of a personalised dispatch prints instead of the dispatch's own text."""

    subject: str
    addressee_lines: list[str]
    body_html: str
    verification_code: str
    short_code: str


def document_context(dispatch, watermark: bool = False, appendices: list | None = None,
                     copy: CopyText | None = None) -> dict:  # fmt: skip
    """Return the template context of a dispatch (or of one copy): parties, body, images and verification code."""
    code = copy.verification_code if copy else dispatch.verification_code
    url = "" if watermark else dispatch.verification_url_of(code)
    return {
        "dispatch": dispatch,
        "issuer": dispatch.issuer,
        "signer": dispatch.signer,
        "subject": copy.subject if copy else dispatch.subject,
        "addressee_lines": copy.addressee_lines if copy else dispatch.addressee_lines(),
        "short_code": copy.short_code if copy else dispatch.short_code,
        "body_html": with_end_mark(without_trailing_empty_paragraphs(copy.body_html if copy else dispatch.body)),
        "replaced": replaced_dispatch(dispatch),
        "watermark": watermark,
        "draft_year": timezone.localdate().year,
        "qr_svg": qr_svg(url) if url else "",
        "verify_host": urlsplit(settings.PUBLIC_BASE_URL).netloc,
        # A draft preview shows neither the signature nor the seal: it is not an issued document.
        "signature_uri": "" if watermark else data_uri(dispatch.signer.signature_image),
        "seal_uri": "" if watermark else data_uri(dispatch.issuer.seal_image),
        "appendices": appendices if appendices is not None else list(dispatch.appendices.all()),
    }


def dispatch_html(dispatch, appendices: list | None = None, copy: CopyText | None = None) -> str:
    """Return the HTML of a dispatch (or of one organisation's copy) in the Decree-30 layout (appendices listed:
    given, else the stored ones)."""
    return render_to_string(TEMPLATE, document_context(dispatch, appendices=appendices, copy=copy))


def render_dispatch(dispatch, appendices: list | None = None) -> bytes:
    """Return the PDF of a dispatch in the Decree-30 layout (appendices listed: given, else the stored ones)."""
    return render_html(dispatch_html(dispatch, appendices))


def render_preview(dispatch) -> bytes:
    """Return the draft's PDF with a diagonal "DỰ THẢO" watermark and no number (never stored)."""
    return render_html(render_to_string(TEMPLATE, document_context(dispatch, watermark=True)))


# --- Appendices: the dispatch's number and the signing time stamped at the top right of page 1 -----
def signing_time_text(moment: datetime.datetime) -> str:
    """Return the signing time in ISO 8601, Vietnam time, to the second: "2026-12-01T09:15:00+07:00"."""
    return timezone.localtime(moment).replace(microsecond=0).isoformat()


def stamp_page(width: float, height: float, notation: str, signed_at: datetime.datetime) -> PdfReader:
    """Return a one-page PDF of the given size (points) carrying only the appendix stamp."""
    # Sizes go in as text: a template would print a float in the active locale ("595,28").
    context = {"width": f"{width:.2f}", "height": f"{height:.2f}", "notation": notation,
               "time": signing_time_text(signed_at)}  # fmt: skip
    return PdfReader(io.BytesIO(render_html(render_to_string(STAMP_TEMPLATE, context))))


def stamp_appendix(data: bytes, notation: str, signed_at: datetime.datetime) -> bytes:
    """Return the appendix PDF with the number/notation and signing time stamped on its first page.

    Decree 30 (Appendix I, II.8.b) puts them at the top right of page 1 in Times New Roman 10 pt, upright and
    black. The page's rotation is folded into its content first, so "top right" is where the reader sees it.
    """
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    first = writer.pages[0]
    first.transfer_rotation_to_content()
    box = first.mediabox
    stamp = stamp_page(float(box.width), float(box.height), notation, signed_at).pages[0]
    first.merge_transformed_page(stamp, Transformation().translate(float(box.left), float(box.bottom)))
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
