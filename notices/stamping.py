"""The fast path of a personalised dispatch: lay the letter out once, then stamp each organisation's own blocks.

Copies of one dispatch differ only in a few blocks: the V/v subject, the "Kính gửi" block, the body's top-level
paragraphs, lists and tables that use merge fields, and the footer's verification code and QR. A *master* is one
copy rendered by WeasyPrint with those blocks laid out but not drawn (`.slot-hidden`); every other copy whose
blocks have the same heights is the master's pages with a tiny render of only its own blocks overlaid (pikepdf),
each placed where the master laid its block out, so it is what a full render of that copy draws. A copy whose
block is taller or shorter (a name that wraps, a longer table) would move the rest of the page: it becomes the
master of its own shape (`full_render`), which later copies of that shape reuse.

The parent builds a `Skeleton` (the letter's HTML with each personal value left as a marker) and `CopyParts`
(one organisation's values); `render_copies` runs in the sandbox (config/sandbox.py), with no database.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import pikepdf
from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.formatting_structure.boxes import BlockBox
from weasyprint.text.fonts import FontConfiguration

from notices import rendering

STAMP_TEMPLATE = "notices/copy_stamp.html"
MARK = "\ue000{}\ue001"  # a personal value's place in the skeleton (private-use characters: never in a text)
MARKS = re.compile("\ue000([a-z0-9-]+)\ue001")
BLOCK_TAGS = {"p", "ul", "ol", "table"}
TEMPLATE_SYNTAX = re.compile(r"{[{%#]")
MAX_MASTERS = 8  # shapes kept per sandboxed batch; more shapes than this is a letter for the full path anyway


@dataclass(frozen=True)
class Block:
    """One top-level block of a copy's body: its HTML, and whether it differs between copies."""

    slot: str
    html: str
    personal: bool


@dataclass(frozen=True)
class Skeleton:
    """The letter of a personalised dispatch with every personal value left as a marker (built once per dispatch).

    `blocks` says which body blocks are personal and holds the static ones' HTML; `addressees` is the number of
    "Kính gửi" lines every copy has.
    """

    html: str
    blocks: tuple[Block, ...]
    addressees: int
    verify_host: str
    static_root: str


@dataclass(frozen=True)
class CopyParts:
    """One organisation's own values, as the slot templates print them (plain text, or sanitised HTML)."""

    subject: str
    addressee_lines: list[str]
    short_code: str
    qr_svg: str
    body_blocks: list[str]


@dataclass(frozen=True)
class Slot:
    """Where the master laid a personal block out: its page, and its border box in CSS pixels."""

    name: str
    page: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class Master:
    pdf: bytes
    width: float
    height: float
    slots: dict[str, Slot] = field(default_factory=dict)

    @property
    def heights(self) -> tuple:
        return shape(self.slots)


class TopLevelBlocks(HTMLParser):
    """Cut sanitised HTML into its top-level blocks; `ok` is False when anything else stands at the top level."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source, self.depth, self.start, self.ok = source, 0, 0, True
        self.blocks: list[str] = []
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]

    def position(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag, attrs) -> None:
        if self.depth == 0:
            self.ok &= tag in BLOCK_TAGS
            self.start = self.position()
        if tag != "br":
            self.depth += 1

    def handle_endtag(self, tag) -> None:
        self.depth -= 1
        if self.depth == 0:
            end = self.source.index(">", self.position()) + 1
            self.blocks.append(self.source[self.start : end])

    def handle_data(self, data) -> None:
        self.ok &= self.depth > 0 or not data.strip()

    def handle_entityref(self, name) -> None:
        self.ok &= self.depth > 0

    handle_charref = handle_entityref


def top_level_blocks(body_html: str) -> list[str] | None:
    """Return the body's top-level paragraphs, lists and tables, or None when it is not made of them only."""
    parser = TopLevelBlocks(body_html)
    parser.feed(body_html)
    parser.close()
    return parser.blocks if parser.ok and parser.depth == 0 and parser.blocks else None


def printed_body(body_html: str) -> str:
    """Return the body as the letter prints it (no trailing empty paragraphs, the closing "./.")."""
    return rendering.with_end_mark(rendering.without_trailing_empty_paragraphs(body_html))


def body_blocks(template_body: str) -> tuple[Block, ...] | None:
    """Return the blocks of a personalised body's template (personal: it holds template syntax), or None when
    the template cannot be cut into blocks, or a personal block holds a link (a link is an annotation, which a
    stamp cannot carry)."""
    blocks = top_level_blocks(printed_body(template_body))
    if blocks is None:
        return None
    cut = tuple(Block(f"body-{i}", b, bool(TEMPLATE_SYNTAX.search(b))) for i, b in enumerate(blocks))
    return None if any(b.personal and "<a " in b.html for b in cut) else cut


def skeleton(dispatch, appendices: list, addressees: int) -> Skeleton | None:
    """Return the dispatch's skeleton, or None when its body must take the full path for every copy."""
    blocks = body_blocks(dispatch.body)
    if blocks is None:
        return None
    marked = rendering.CopyText(
        subject=MARK.format("subject"),
        addressee_lines=[MARK.format(f"addressee-{i}") for i in range(addressees)],
        body_html="",
        verification_code="",
        short_code=MARK.format("short-code"),
    )
    context = rendering.document_context(dispatch, appendices=appendices, copy=marked)
    shown = [Block(b.slot, MARK.format(b.slot) if b.personal else b.html, b.personal) for b in blocks]
    context.update(qr_svg=MARK.format("qr"), body_blocks=shown, hide_slots=MARK.format("hidden"))
    return Skeleton(
        html=render_to_string(rendering.TEMPLATE, context),
        blocks=blocks,
        addressees=addressees,
        verify_host=context["verify_host"],
        static_root=str(Path(settings.STATICFILES_DIRS[0]).resolve()),
    )


def parts_of(frame: Skeleton, text: rendering.CopyText, qr_svg: str) -> CopyParts | None:
    """Return one copy's values for the skeleton, or None when its text does not fit the skeleton's blocks."""
    blocks = top_level_blocks(printed_body(text.body_html))
    if blocks is None or len(blocks) != len(frame.blocks) or len(text.addressee_lines) != frame.addressees:
        return None
    if any(not b.personal and blocks[i] != b.html for i, b in enumerate(frame.blocks)):
        return None  # a block the template writes the same for all came out different: render it in full
    return CopyParts(text.subject, list(text.addressee_lines), text.short_code, qr_svg, blocks)


def filled(frame: Skeleton, parts: CopyParts, hidden: bool = True) -> str:
    """Return the letter's HTML for one copy, its personal blocks hidden (a master) or shown (a full render)."""
    values = {
        "hidden": "slot-hidden" if hidden else "",
        "subject": html.escape(parts.subject),
        "short-code": html.escape(parts.short_code),
        "qr": parts.qr_svg,
    }
    values |= {f"addressee-{i}": html.escape(line) for i, line in enumerate(parts.addressee_lines)}
    values |= {f"body-{i}": block for i, block in enumerate(parts.body_blocks)}
    return MARKS.sub(lambda m: values[m.group(1)], frame.html)


@lru_cache(maxsize=1)
def fonts() -> FontConfiguration:
    """Return the fonts of this process, found once (each render would otherwise ask fontconfig again)."""
    return FontConfiguration()


@lru_cache(maxsize=2)
def letter_style(static_root: str) -> CSS:
    """Return the letter's stylesheet, parsed once per process (a stamp is a small page: parsing would dominate)."""
    path = Path(static_root) / "notices" / "dispatch.css"
    return CSS(string=path.read_text(), base_url=path.as_uri(), font_config=fonts())


def document(source: str, frame: Skeleton, stamp: bool = False):
    """Return WeasyPrint's laid-out document of `source` (our static files only); a stamp gets the letter's
    stylesheet already parsed."""
    base_url = Path(frame.static_root).as_uri() + "/"
    page = HTML(string=source, base_url=base_url, url_fetcher=rendering.StaticOnlyFetcher())
    return page.render(font_config=fonts(), stylesheets=[letter_style(frame.static_root)] if stamp else None)


def slot_boxes(laid_out) -> dict[str, Slot] | None:
    """Return each slot's border box, or None when a slot is split over two pages."""
    found: dict[str, Slot] = {}
    for number, page in enumerate(laid_out.pages):
        for box in page._page_box.descendants(placeholders=True):
            element = getattr(box, "element", None)
            name = element.get("data-slot") if isinstance(box, BlockBox) and element is not None else None
            if name is None or (name in found and found[name].page == number):
                continue
            if name in found:
                return None
            found[name] = Slot(name, number, box.border_box_x(), box.border_box_y(), box.border_width(),
                               box.border_height())  # fmt: skip
    return found


def make_master(frame: Skeleton, parts: CopyParts) -> Master | None:
    """Render the copy as a master (its personal blocks hidden); None when a personal block is split."""
    laid_out = document(filled(frame, parts), frame)
    slots = slot_boxes(laid_out)
    if slots is None:
        return None
    first = laid_out.pages[0]
    personal = {name: slot for name, slot in slots.items() if is_personal(frame, name)}
    return Master(laid_out.write_pdf(pdf_version="1.7"), first.width, first.height, personal)


def is_personal(frame: Skeleton, name: str) -> bool:
    if not name.startswith("body-"):
        return True
    return frame.blocks[int(name.removeprefix("body-"))].personal


WRAPPERS = {"subject": "stamp-header", "verify": "stamp-footer", "qr": "stamp-footer"}
TEMPLATES = {"subject": "subject", "addressees": "addressees", "verify": "verify", "qr": "qr"}


def stamp_layout(frame: Skeleton, parts: CopyParts, master: Master):
    """Return the laid-out stamp of one copy: its personal blocks where `master` has them."""
    pages: list[list[dict]] = [[] for _ in range(1 + max(slot.page for slot in master.slots.values()))]
    for name, slot in master.slots.items():
        body = name.startswith("body-")
        block = Block(name, parts.body_blocks[int(name[5:])], True) if body else None
        pages[slot.page].append({
            "x": repr(slot.x), "y": repr(slot.y), "width": repr(slot.width), "block": block,
            "wrapper": "body" if body else WRAPPERS.get(name, ""),
            "template": f"notices/slots/{'body_block' if body else TEMPLATES[name]}.html",
        })  # fmt: skip
    context = {"width": repr(master.width), "height": repr(master.height), "pages": pages, "hide_slots": False,
               "subject": parts.subject, "addressee_lines": parts.addressee_lines, "short_code": parts.short_code,
               "qr_svg": parts.qr_svg, "verify_host": frame.verify_host}  # fmt: skip
    return document(render_to_string(STAMP_TEMPLATE, context), frame, stamp=True)


def shape(slots: dict[str, Slot]) -> tuple:
    """Return the slots' heights, to a hundredth of a pixel (sums of fractions differ in the last digits)."""
    return tuple(sorted((name, round(slot.height, 2)) for name, slot in slots.items()))


def heights_of(laid_out) -> tuple | None:
    slots = slot_boxes(laid_out)
    return None if slots is None else shape(slots)


def overlay(master: Master, stamp_pdf: bytes, subject: str) -> bytes:
    """Return the master's pages with the stamp's pages drawn over them, titled with the copy's own subject."""
    with pikepdf.open(io.BytesIO(master.pdf)) as letter, pikepdf.open(io.BytesIO(stamp_pdf)) as stamp:
        for number in {slot.page for slot in master.slots.values()}:
            page = letter.pages[number]
            page.add_overlay(stamp.pages[number], pikepdf.Rectangle(page.mediabox))
        letter.docinfo["/Title"] = subject
        output = io.BytesIO()
        letter.save(output)
    return output.getvalue()


def stamped(frame: Skeleton, parts: CopyParts, masters: dict[tuple, Master]) -> tuple[bytes, bool]:
    """Return one copy's PDF (unsigned) and whether it was laid out in full (it became a master).

    The stamp is laid out where the latest master has its blocks; blocks of another height mean another shape:
    the master of that shape if one is kept, else this copy becomes one.
    """
    full, master = False, next(reversed(masters.values()), None)
    laid_out = stamp_layout(frame, parts, master) if master else None
    if master is None or laid_out is None or heights_of(laid_out) != master.heights:
        shape = heights_of(laid_out) if laid_out is not None else None
        master = masters.get(shape) if shape else None
        if master is None:
            full, master = True, make_master(frame, parts)
            if master is None:  # a personal block split over two pages: this copy cannot be stamped
                return rendering.render_html(filled(frame, parts, hidden=False)), True
        laid_out = stamp_layout(frame, parts, master)
    masters.pop(master.heights, None)
    masters[master.heights] = master  # the latest shape is tried first; the oldest goes when too many are kept
    while len(masters) > MAX_MASTERS:
        masters.pop(next(iter(masters)))
    return overlay(master, laid_out.write_pdf(pdf_version="1.7"), parts.subject), full


def render_copies(frame: Skeleton, batch: list[CopyParts]) -> list[tuple[bytes, bool]]:
    """Return each copy's PDF (unsigned) and whether it was laid out in full; run in the sandbox."""
    masters: dict[tuple, Master] = {}
    return [stamped(frame, parts, masters) for parts in batch]
