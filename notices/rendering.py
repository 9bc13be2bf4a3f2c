"""Turn a dispatch into PDF bytes with WeasyPrint, loading nothing but our own static files."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from notices.images import data_uri

TEMPLATE = "notices/dispatch.html"
END_MARK = "./."


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


def with_end_mark(body_html: str) -> str:
    """Return the body with the closing "./." after its last words, unless the author already wrote it."""
    text = re.sub(r"<[^>]+>", "", body_html).replace("&nbsp;", " ").strip()
    if not text or text.endswith(END_MARK):
        return body_html
    last_close = body_html.rfind("</p>")
    if last_close == -1:
        return f"{body_html}<p>{END_MARK}</p>"
    return body_html[:last_close].rstrip().rstrip(".") + END_MARK + body_html[last_close:]


def qr_svg(url: str) -> str:
    """Return an inline SVG QR code of the verification URL."""
    return segno.make(url, error="m").svg_inline(border=0, scale=4, dark="black", omitsize=False)


def document_context(dispatch, watermark: bool = False, appendices: list | None = None) -> dict:
    """Return the template context of a dispatch: its parties, body, images and verification code."""
    url = "" if watermark else dispatch.verification_url()
    return {
        "dispatch": dispatch,
        "issuer": dispatch.issuer,
        "signer": dispatch.signer,
        "body_html": with_end_mark(dispatch.body),
        "watermark": watermark,
        "draft_year": timezone.localdate().year,
        "qr_svg": qr_svg(url) if url else "",
        "verify_host": urlsplit(settings.PUBLIC_BASE_URL).netloc,
        # A draft preview shows neither the signature nor the seal: it is not an issued document.
        "signature_uri": "" if watermark else data_uri(dispatch.signer.signature_image),
        "seal_uri": "" if watermark else data_uri(dispatch.issuer.seal_image),
        "appendices": appendices if appendices is not None else list(dispatch.appendices.all()),
    }


def render_dispatch(dispatch, appendices: list | None = None) -> bytes:
    """Return the PDF of a dispatch in the Decree-30 layout (appendices listed: given, else the stored ones)."""
    return render_html(render_to_string(TEMPLATE, document_context(dispatch, appendices=appendices)))


def render_preview(dispatch) -> bytes:
    """Return the draft's PDF with a diagonal "DỰ THẢO" watermark and no number (never stored)."""
    return render_html(render_to_string(TEMPLATE, document_context(dispatch, watermark=True)))
