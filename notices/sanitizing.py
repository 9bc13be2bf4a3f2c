"""Clean a dispatch body to the allow-list of rich text a công văn needs (nh3, i.e. the ammonia sanitiser)."""

from __future__ import annotations

import nh3

ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "sub", "sup", "ul", "ol", "li",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "a",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
# No images at all (a remote image is a tracking beacon); links only to the web or to an address.
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def sanitize_body(html: str) -> str:
    """Return the HTML reduced to paragraphs, emphasis, lists, simple tables and plain links."""
    if not html:
        return ""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()
