"""Clean a dispatch body to the allow-list of rich text a công văn needs (nh3, i.e. the ammonia sanitiser).

The result is also bounded: an input longer than MAX_BODY_CHARS is refused, and elements nested deeper than
MAX_DEPTH are flattened (their text is kept), so no renderer downstream recurses itself to death on a body of
thousands of nested <b>.
"""

from __future__ import annotations

from html.parser import HTMLParser

import nh3
from django.utils.translation import gettext_lazy as _

ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "sub", "sup", "ul", "ol", "li",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "a",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
# No images at all (a remote image is a tracking beacon); links only to the web or to an address.
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
VOID_TAGS = {"br"}
# A real body nests a table, a cell, a paragraph, emphasis and a link (about 10): far below this.
MAX_DEPTH = 24
# A long công văn with a table runs to tens of kilobytes; this is ten times the longest we have seen.
MAX_BODY_CHARS = 500_000


class BodyTooLarge(ValueError):
    """The body is longer than MAX_BODY_CHARS; the message is shown to the user."""

    def __init__(self) -> None:
        super().__init__(_("The body is too long (more than %(n)s characters).") % {"n": f"{MAX_BODY_CHARS:,}"})


class DepthLimiter(HTMLParser):
    """Re-emit well-formed HTML unchanged, except that tags deeper than `limit` are dropped (text kept).

    HTMLParser tokenises without recursion, so any depth is handled in linear time.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(convert_charrefs=False)
        self.limit, self.depth = limit, 0
        self.out: list[str] = []
        self.stack: list[bool] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag in VOID_TAGS:
            self.out.append(self.get_starttag_text() or "")  # never None inside handle_starttag
            return
        kept = self.depth < self.limit
        self.stack.append(kept)
        if kept:
            self.depth += 1
            self.out.append(self.get_starttag_text() or "")  # never None inside handle_starttag

    def handle_endtag(self, tag) -> None:
        if tag not in VOID_TAGS and self.stack and self.stack.pop():
            self.depth -= 1
            self.out.append(f"</{tag}>")

    def handle_data(self, data) -> None:
        self.out.append(data)

    def handle_entityref(self, name) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name) -> None:
        self.out.append(f"&#{name};")


def limit_depth(html: str, limit: int = MAX_DEPTH) -> str:
    """Return the (sanitised, well-formed) HTML with every element deeper than `limit` unwrapped."""
    parser = DepthLimiter(limit)
    parser.feed(html)
    parser.close()
    return "".join(parser.out)


def sanitize_body(html: str) -> str:
    """Return the HTML reduced to paragraphs, emphasis, lists, simple tables and plain links, nested at most
    MAX_DEPTH deep; raise BodyTooLarge for an input longer than MAX_BODY_CHARS."""
    if not html:
        return ""
    if len(html) > MAX_BODY_CHARS:
        raise BodyTooLarge
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return limit_depth(clean).strip()
