"""The issued PDF read back with pdfplumber: Decree-30 page, header, lines, sizes, page numbers, fetcher."""

from __future__ import annotations

import base64
import http.server
import io
import threading

import PIL.Image
import pypdfium2
import pytest
import segno
import zxingcpp
from django.core.exceptions import ValidationError

from notices import rendering
from notices.models import Dispatch, codes
from notices.rendering import ResourceRefused, StaticOnlyFetcher
from notices.sample import sample_body
from tests.conftest import make_group
from tests.notices.conftest import issue_as_number, open_pdf, stored_pdf

MM = 72 / 25.4
A4 = (595.28, 841.89)
ADDRESSEES = "Công an thành phố Hà Nội\nSở Nội vụ thành phố Hà Nội\nỦy ban nhân dân các phường, xã"


@pytest.fixture
def issued(draft, clerk, monkeypatch):
    """Issue a KHẨN dispatch to three addressees as number 05 on 5 March 2026."""
    draft.addressees = ADDRESSEES
    draft.urgency = "khan"
    draft.extra_distribution = "Giám đốc (để b/c)"
    draft.save()
    return issue_as_number(draft, clerk, 5, monkeypatch)


@pytest.fixture
def long_issued(draft, clerk, monkeypatch):
    """Issue a dispatch long enough for five or more pages."""
    draft.body = sample_body(rounds=13)
    draft.save()
    return issue_as_number(draft, clerk, 12, monkeypatch)


def columns(page, issuer):
    """Return the page's left (issuer) and right (nation) header columns as cropped pages."""
    left = issuer.margin_left * MM
    split = left + 0.43 * (page.width - left - issuer.margin_right * MM)
    return page.crop((0, 0, split, page.height * 0.4)), page.crop((split, 0, page.width, page.height * 0.4))


def line(page, text: str) -> dict:
    """Return the one text line of the page that reads exactly `text`."""
    lines = [found for found in page.extract_text_lines() if found["text"] == text]
    assert len(lines) == 1, [found["text"] for found in page.extract_text_lines()]
    return lines[0]


def style(found: dict) -> set[tuple[float, str]]:
    """Return the (size, weight/slant) pairs used by a text line."""

    def kind(fontname: str) -> str:
        bold, italic = "Bold" in fontname, "Italic" in fontname
        return "bold-italic" if bold and italic else "bold" if bold else "italic" if italic else "regular"

    return {(round(c["size"], 1), kind(c["fontname"])) for c in found["chars"] if c["text"].strip()}


def test_the_header_has_the_exact_lines_in_their_legal_size_and_weight(issued):
    with open_pdf(stored_pdf(issued)) as pdf:
        left, right = columns(pdf.pages[0], issued.issuer)
        assert style(line(left, "BẢO HIỂM XÃ HỘI VIỆT NAM")) == {(12.5, "regular")}
        assert style(line(left, "BẢO HIỂM XÃ HỘI THÀNH PHỐ")) == {(12.5, "bold")}
        number = line(left, "Số: 05/BHXH-QLT")
        assert style(number) == {(13.0, "regular")}
        assert style(line(left, "V/v phối hợp đôn đốc đóng")) == {(12.5, "regular")}
        assert style(line(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")) == {(12.5, "bold")}
        assert style(line(right, "Độc lập - Tự do - Hạnh phúc")) == {(13.5, "bold")}
        date = line(right, "Hà Nội, ngày 05 tháng 3 năm 2026")
        assert style(date) == {(13.5, "italic")}
        assert abs(date["bottom"] - number["bottom"]) < 2, "the Số line and the date stand level"
        assert style(line(pdf.pages[0], "KHẨN")) == {(13.0, "bold")}


def test_the_addressees_body_and_signature_read_back_in_vietnamese_exactly(issued):
    with open_pdf(stored_pdf(issued)) as pdf:
        text = " ".join(" ".join(page.extract_text() for page in pdf.pages).split())
        lines = [found["text"] for page in pdf.pages for found in page.extract_text_lines()]
        last = pdf.pages[-1]
        assert "Kính gửi:" in lines, "several addressees: the line breaks after “Kính gửi:”"
        assert "- Công an thành phố Hà Nội;" in lines
        assert "- Sở Nội vụ thành phố Hà Nội;" in lines
        assert "- Ủy ban nhân dân các phường, xã." in lines
        assert "đề nghị Quý cơ quan phối hợp thực hiện./." in text
        assert style(line(last, "Nơi nhận: KT. GIÁM ĐỐC")) == {(12.0, "bold-italic"), (13.5, "bold")}
        assert style(line(last, "- Như trên; PHÓ GIÁM ĐỐC")) == {(11.0, "regular"), (13.5, "bold")}
        assert "- Giám đốc (để b/c);" in lines
        assert style(line(last, "- Lưu: VT, QLT.")) == {(11.0, "regular")}
        assert style(line(last, "Nguyễn Văn Minh")) == {(13.5, "bold")}


def test_one_addressee_stands_on_the_kinh_gui_line(draft, clerk, monkeypatch):
    draft.addressees = "Công an thành phố Hà Nội"
    draft.save()
    with open_pdf(stored_pdf(issue_as_number(draft, clerk, 1, monkeypatch))) as pdf:
        assert style(line(pdf.pages[0], "Kính gửi: Công an thành phố Hà Nội.")) == {(14.0, "regular")}


def test_the_pdf_carries_title_author_and_number_as_metadata(issued):
    with open_pdf(stored_pdf(issued)) as pdf:
        assert pdf.metadata["Title"] == issued.subject
        assert pdf.metadata["Author"] == "BẢO HIỂM XÃ HỘI THÀNH PHỐ HÀ NỘI"
        assert pdf.metadata["Subject"] == "Số 05/BHXH-QLT"


def test_a_long_dispatch_is_a4_inside_its_margins_with_page_numbers_from_page_2(long_issued):
    issuer = long_issued.issuer
    with open_pdf(stored_pdf(long_issued)) as pdf:
        assert len(pdf.pages) >= 5
        for number, page in enumerate(pdf.pages, start=1):
            assert (round(page.width, 1), round(page.height, 1)) == (595.3, 841.9)
            top_margin, bottom_edge = issuer.margin_top * MM, page.height - issuer.margin_bottom * MM
            in_top_margin = [c for c in page.chars if c["bottom"] <= top_margin]
            in_bottom_margin = [c for c in page.chars if c["top"] >= bottom_edge]
            header = "".join(c["text"] for c in in_top_margin)
            if number == 1:
                assert header == ""
                assert "Địa chỉ: Số 15 phố Trần Phú" in page.extract_text(), "the contact footer is on page 1"
                assert in_bottom_margin == [], "Decree 30 puts the footer inside the text area"
            else:
                assert header == str(number)
                (digit, *_) = in_top_margin
                assert (
                    round(digit["size"], 1) == 13
                    and abs((digit["x0"] + in_top_margin[-1]["x1"]) / 2 - page.width / 2) < 40
                )
                assert in_bottom_margin == [] and "Địa chỉ:" not in page.extract_text(), "the footer is on page 1 only"
            for char in page.chars:
                if char in in_top_margin or char in in_bottom_margin or not char["text"].strip():
                    continue
                assert issuer.margin_left * MM - 0.5 <= char["x0"], char
                assert char["x1"] <= page.width - issuer.margin_right * MM + 0.5, char
        last = pdf.pages[-1].extract_text()
        assert "Nguyễn Văn Minh" in last
        assert "./." in last, "the signature block never stands alone: the end of the body is on its page"


def test_the_issuer_margins_move_the_text(draft, clerk, monkeypatch):
    draft.issuer.margin_left, draft.issuer.margin_top = 35, 25
    draft.issuer.save()
    with open_pdf(stored_pdf(issue_as_number(draft, clerk, 1, monkeypatch))) as pdf:
        page = pdf.pages[0]
        assert min(c["x0"] for c in page.chars) >= 35 * MM - 0.5
        assert min(c["top"] for c in page.chars) >= 25 * MM - 0.5


def test_a_margin_outside_the_legal_range_is_refused(issuer):
    issuer.margin_left = 25
    with pytest.raises(ValidationError) as refused:
        issuer.full_clean()
    assert "margin_left" in refused.value.message_dict


def test_the_preview_is_watermarked_unnumbered_and_never_stored(draft):
    data = rendering.render_preview(draft)
    with open_pdf(data) as pdf:
        text = pdf.pages[0].extract_text()
        watermark = [c for c in pdf.pages[0].chars if c["size"] > 50]
    assert "".join(c["text"] for c in watermark) == "DỰ THẢO"
    assert all(c["matrix"][1] > 0.5 for c in watermark), "the watermark runs diagonally"
    assert "Số: /BHXH-QLT" in " ".join(text.split())
    assert "Mã:" not in text, "a draft has no verification code"
    draft.refresh_from_db()
    assert not draft.pdf and draft.number is None


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x.png", "https://example.com/x.css", "file:///etc/passwd"])
def test_the_fetcher_refuses_anything_but_our_static_files(url):
    with pytest.raises(ResourceRefused):
        StaticOnlyFetcher().fetch(url)


def test_a_remote_image_in_the_html_is_never_requested():
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        rendering.render_html(f'<p>x</p><img src="http://127.0.0.1:{port}/beacon.png">')
    finally:
        server.shutdown()
    assert hits == []


@pytest.mark.django_db
def test_the_distribution_list_follows_the_rules(draft):
    assert draft.distribution_lines() == ["Lưu: VT, QLT"], "no addressees, no “Như trên”"
    group = make_group(1, name="BHXH cơ sở", label="BHXH các quận, huyện, thị xã")
    draft.groups.add(group)
    draft.extra_distribution = "Giám đốc (để b/c)\n\n"
    assert draft.distribution_lines() == ["Như trên", "Giám đốc (để b/c)", "Lưu: VT, QLT"]
    draft.addressees = "Công an thành phố Hà Nội"
    assert draft.distribution_lines() == [
        "Như trên", "BHXH các quận, huyện, thị xã", "Giám đốc (để b/c)", "Lưu: VT, QLT",
    ]  # fmt: skip


# --- Issue 9 §4: the document as Decree 30 wants it -------------------------------------------------
def chars_of(found: dict, text: str) -> list[dict]:
    """Return the characters of a text line that spell `text` (its first occurrence)."""
    start = found["text"].index(text)
    return found["chars"][start : start + len(text)]


def test_several_addressees_stand_one_per_line_with_their_dashes_under_the_colon(issued):
    with open_pdf(stored_pdf(issued)) as pdf:
        page = pdf.pages[0]
        salutation = line(page, "Kính gửi:")
        addressees = [
            line(page, "- Công an thành phố Hà Nội;"),
            line(page, "- Sở Nội vụ thành phố Hà Nội;"),
            line(page, "- Ủy ban nhân dân các phường, xã."),
        ]
    colon = salutation["chars"][-1]
    assert colon["text"] == ":"
    for addressee in addressees:
        assert addressee["top"] > salutation["bottom"] - 1, "each addressee is below the “Kính gửi:” line"
        assert abs(addressee["chars"][0]["x0"] - colon["x0"]) < 1.5, "the dash stands under the colon"
        assert style(addressee) == {(14.0, "regular")}
    assert addressees[0]["top"] < addressees[1]["top"] < addressees[2]["top"]


def test_page_1_footer_is_inside_the_text_area_under_a_full_width_rule_in_11_pt(long_issued):
    issuer = long_issued.issuer
    with open_pdf(stored_pdf(long_issued)) as pdf:
        page = pdf.pages[0]
        left, right = issuer.margin_left * MM, page.width - issuer.margin_right * MM
        bottom = page.height - issuer.margin_bottom * MM
        address = [found for found in page.extract_text_lines() if found["text"].startswith("Địa chỉ:")][0]
        footer = [c for c in page.chars if c["top"] >= address["top"] - 1 and c["text"].strip()]
        rules = [r for r in page.rects if abs(r["x0"] - left) < 1 and abs(r["x1"] - right) < 1]
        body = [c for c in page.chars if c["bottom"] < address["top"] - 1 and c["text"].strip()]
    assert {round(c["size"], 1) for c in footer} == {11.0}, "the footer prints in 11 pt (Decree 30: 11–12 pt)"
    assert all(c["bottom"] <= bottom + 0.5 for c in footer), "the footer is inside the text area"
    assert rules, "a rule spans the text area's full width"
    rule_top = min(r["top"] for r in rules)
    assert rule_top < address["top"] < rule_top + 12, "the footer stands right under the rule"
    assert max(c["bottom"] for c in body) < rule_top, "the text flows above the footer"


def test_the_qr_code_keeps_a_quiet_zone_of_four_modules(issued):
    with open_pdf(stored_pdf(issued)) as pdf:
        page = pdf.pages[0]
        modules = [found for found in page.lines if found["linewidth"] > 1]  # the code's dark runs
        # The footer's rule is drawn as a filled frame: its top edge is what prints.
        edges = [{**r, "bottom": r["top"] + 0.6} if r["width"] > 300 else r for r in page.rects]
        drawn = [c for c in page.chars if c["text"].strip()] + [
            found for found in page.lines if found["linewidth"] <= 1
        ]
        drawn += [r for r in edges if r["non_stroking_color"] != (1.0, 1.0, 1.0)]
    module = modules[0]["linewidth"]
    x0, x1 = min(m["x0"] for m in modules), max(m["x1"] for m in modules)
    top, bottom = min(m["top"] for m in modules) - module / 2, max(m["bottom"] for m in modules) + module / 2
    zone = (x0 - 4 * module, top - 4 * module, x1 + 4 * module, bottom + 4 * module)
    intruders = [
        o for o in drawn if o["x0"] < zone[2] and o["x1"] > zone[0] and o["top"] < zone[3] and o["bottom"] > zone[1]
    ]
    assert intruders == [], "nothing prints within four modules of the code"
    assert zone[2] <= page.width and zone[3] <= page.height


def test_the_issuer_name_breaks_where_the_name_breaks(draft, clerk, monkeypatch):
    draft.issuer.printed_name = "Bảo hiểm xã hội | thành phố Hà Nội"
    draft.issuer.save()
    with open_pdf(stored_pdf(issue_as_number(draft, clerk, 1, monkeypatch))) as pdf:
        left, _right = columns(pdf.pages[0], draft.issuer)
        first, second = line(left, "BẢO HIỂM XÃ HỘI"), line(left, "THÀNH PHỐ HÀ NỘI")
        assert pdf.metadata["Author"] == "BẢO HIỂM XÃ HỘI THÀNH PHỐ HÀ NỘI"
    assert style(first) == style(second) == {(12.5, "bold")}
    assert first["bottom"] < second["top"]


def test_a_replacement_names_the_dispatch_it_replaces(issued, clerk, monkeypatch):
    replacement = Dispatch.objects.create(
        issuer=issued.issuer, drafting_unit=issued.drafting_unit, signer=issued.signer, subject=issued.subject,
        addressees="Công an thành phố Hà Nội", body="<p>Nội dung đã sửa.</p>", replaces=issued,
    )  # fmt: skip
    replaced = issue_as_number(replacement, clerk, 6, monkeypatch, when=(2026, 3, 9, 8, 0))
    with open_pdf(stored_pdf(replaced)) as pdf:
        left, _right = columns(pdf.pages[0], issued.issuer)
        text = " ".join(left.extract_text().split())
    assert "Thay thế Công văn số 05/BHXH-QLT ngày 05/03/2026" in text
    with open_pdf(stored_pdf(issued)) as pdf:
        assert "Thay thế" not in pdf.pages[0].extract_text()


@pytest.mark.parametrize("trailing", ["<p><br></p>", "<p></p>", "<p>&nbsp;</p>\n<p><br/></p>"])
def test_the_editors_trailing_empty_paragraph_does_not_push_the_end_mark_onto_its_own_line(
    draft, clerk, monkeypatch, trailing
):
    draft.body = f"<p>Đề nghị Quý cơ quan phối hợp thực hiện.</p>{trailing}"
    draft.save()
    with open_pdf(stored_pdf(issue_as_number(draft, clerk, 1, monkeypatch))) as pdf:
        lines = [found["text"] for page in pdf.pages for found in page.extract_text_lines()]
    assert "Đề nghị Quý cơ quan phối hợp thực hiện./." in lines
    assert "./." not in lines


def test_a_tables_header_row_prints_bold_and_centred(draft, clerk, monkeypatch):
    # The editor writes tables with no <thead>: their first row is the header.
    draft.body = (
        "<p>Kết quả như sau:</p><table><tbody><tr><td>STT</td><td>Nội dung công việc</td></tr>"
        "<tr><td>1</td><td>Rà soát đơn vị nợ đóng</td></tr></tbody></table><p>Trân trọng./.</p>"
    )
    draft.save()
    with open_pdf(stored_pdf(issue_as_number(draft, clerk, 1, monkeypatch))) as pdf:
        page = pdf.pages[0]
        header, row = line(page, "STT Nội dung công việc"), line(page, "1 Rà soát đơn vị nợ đóng")
    assert style(header) == {(12.0, "bold")} and style(row) == {(12.0, "regular")}
    stt, work = chars_of(header, "STT"), chars_of(header, "Nội dung công việc")
    first_cell, second_cell = chars_of(row, "1")[0], chars_of(row, "Rà soát")[0]
    assert stt[0]["x0"] - first_cell["x0"] > 5, "the header is centred, the body row starts at the left"
    assert work[0]["x0"] - second_cell["x0"] > 30


def test_lists_use_the_vietnamese_marks(draft, clerk, monkeypatch):
    draft.body = (
        "<p>Nội dung:</p><ul><li>Rà soát đơn vị nợ đóng;<ul><li>nợ từ 03 tháng;</li><li>nợ từ 06 tháng;</li></ul></li>"
        "<li>Báo cáo kết quả.</li></ul><ol><li>Lập danh sách;</li><li>Gửi văn bản đôn đốc.</li></ol><p>Trân trọng./.</p>"
    )
    draft.save()
    with open_pdf(stored_pdf(issue_as_number(draft, clerk, 1, monkeypatch))) as pdf:
        lines = [found["text"] for found in pdf.pages[0].extract_text_lines()]
        text = pdf.pages[0].extract_text()
    for expected in (
        "- Rà soát đơn vị nợ đóng;", "+ nợ từ 03 tháng;", "+ nợ từ 06 tháng;", "- Báo cáo kết quả.",
        "a) Lập danh sách;", "b) Gửi văn bản đôn đốc.",
    ):  # fmt: skip
        assert expected in lines
    assert "•" not in text and "◦" not in text and "1." not in text


def test_the_qr_code_of_the_issued_pdf_decodes_to_its_verification_url(issued):
    page = pypdfium2.PdfDocument(stored_pdf(issued))[0].render(scale=3).to_pil()
    found = zxingcpp.read_barcodes(page)
    assert [code.text for code in found] == [issued.verification_url_of(issued.verification_code)]


def test_qr_codes_with_the_fixed_mask_decode_for_every_kind_of_verification_url():
    for index in range(150):  # the codes' lengths and characters as they come
        url = f"https://xacthuc.bhxh.example.vn/v/{codes.new_verification_code()}" + "x" * (index % 40)
        svg = rendering.qr_svg(url)
        png = segno.make(url, error="m", mask=rendering.QR_MASK).png_data_uri(scale=4, border=4)
        image = PIL.Image.open(io.BytesIO(base64.b64decode(png.split(",", 1)[1])))
        assert [code.text for code in zxingcpp.read_barcodes(image)] == [url]
        assert svg == segno.make(url, error="m", mask=rendering.QR_MASK).svg_inline(
            border=4, scale=4, dark="black", light="white", omitsize=False)  # fmt: skip
