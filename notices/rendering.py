"""Turn a dispatch into PDF bytes with WeasyPrint, loading nothing but our own static files."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher

TEMPLATE = "notices/dispatch.html"


class ResourceRefused(ValueError):
    """A document asked for a resource outside our static files (remote, or elsewhere on disk)."""


class StaticOnlyFetcher(URLFetcher):
    """A WeasyPrint fetcher that serves `file:` URLs inside the static roots and refuses all else.

    A dispatch body is written by people and could carry a link to a remote image (a tracking
    beacon, or a request from our server to any address) or to a local file: neither may load.
    """

    def __init__(self, roots: list[Path] | None = None) -> None:
        super().__init__(allowed_protocols=["file"])
        self.roots = [Path(root).resolve() for root in (roots or static_roots())]

    def fetch(self, url: str, headers=None):
        if not url.lower().startswith("file:"):
            raise ResourceRefused(f"Refused to load {url!r}: only the application's static files may be used.")
        from urllib.parse import unquote, urlsplit

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
    return HTML(string=html, base_url=base_url, url_fetcher=StaticOnlyFetcher()).write_pdf()


def render_dispatch(dispatch) -> bytes:
    """Return the PDF of a dispatch in the Decree-30 layout."""
    return render_html(render_to_string(TEMPLATE, {"dispatch": dispatch}))
