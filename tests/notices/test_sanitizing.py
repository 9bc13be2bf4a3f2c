"""The body allow-list: rich text stays, anything that runs, loads or hides goes."""

from __future__ import annotations

import pytest
from django.utils import translation
from weasyprint import HTML

from notices.sanitizing import MAX_DEPTH, BodyTooLarge, sanitize_body


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("<p>Đề nghị<script>alert(1)</script> phối hợp</p>", "<p>Đề nghị phối hợp</p>"),
        ('<p>a</p><iframe src="https://evil.example/"></iframe>', "<p>a</p>"),
        ('<p onclick="steal()" onmouseover="x()">Kính gửi</p>', "<p>Kính gửi</p>"),
        ('<a href="javascript:alert(1)">bấm</a>', '<a rel="noopener noreferrer">bấm</a>'),
        ('<p>x<img src="https://tracker.example/p.gif"></p>', "<p>x</p>"),
        ('<p style="color:red" class="x">y</p>', "<p>y</p>"),
        ("<p>a</p><!-- note --><style>p{}</style>", "<p>a</p>"),
    ],
)
def test_it_removes_what_could_run_or_load(dirty, clean):
    assert sanitize_body(dirty) == clean


def test_it_keeps_paragraphs_emphasis_lists_tables_and_web_links():
    html = (
        "<p><strong>Đậm</strong> <em>nghiêng</em> <u>gạch chân</u></p><ul><li>một</li></ul><ol><li>hai</li></ol>"
        '<table><tbody><tr><td colspan="2">ô</td></tr></tbody></table>'
        '<p><a href="https://baohiemxahoi.gov.vn" rel="noopener noreferrer">cổng</a></p>'
    )
    assert sanitize_body(html) == html


def test_the_body_is_sanitised_whenever_a_dispatch_is_saved(draft):
    draft.body = '<p onclick="x()">Nội dung<script>bad()</script></p>'
    draft.save()
    draft.refresh_from_db()
    assert draft.body == "<p>Nội dung</p>"


@pytest.mark.parametrize(
    "href", ["data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "DATA:text/html,<script>x</script>"]
)
def test_it_refuses_a_data_url_in_a_link(href):
    assert sanitize_body(f'<p><a href="{href}">bấm</a></p>') == '<p><a rel="noopener noreferrer">bấm</a></p>'


def test_it_flattens_thousands_of_nested_tags_keeping_the_text():
    clean = sanitize_body("<p>" + "<b>" * 2000 + "chữ đậm &amp; sâu" + "</b>" * 2000 + "</p>")
    assert clean.count("<b>") == MAX_DEPTH - 1 and clean.count("</b>") == MAX_DEPTH - 1
    assert "chữ đậm &amp; sâu" in clean and clean.startswith("<p><b>") and clean.endswith("</b></p>")


def test_flattened_html_renders_without_recursion():
    html = sanitize_body("<p>" + "<b><i>" * 1500 + "x" + "</i></b>" * 1500 + "</p>")
    assert HTML(string=html).write_pdf().startswith(b"%PDF-")


def test_a_shallow_body_is_unchanged_by_the_depth_limit():
    body = "<table><tbody><tr><td><p><strong><em><u>ô</u></em></strong></p></td></tr></tbody></table><p>a<br>b</p>"
    assert sanitize_body(body) == body


def test_it_refuses_a_body_too_long_to_be_a_dispatch():
    with pytest.raises(BodyTooLarge, match="too long"):
        sanitize_body("<b>" * 300_000 + "x" + "</b>" * 300_000)


def test_the_refusal_of_a_long_body_is_told_in_vietnamese():
    with translation.override("vi"), pytest.raises(BodyTooLarge) as refused:
        sanitize_body("x" * 500_001)
    assert str(refused.value) == "Nội dung quá dài (hơn 500,000 ký tự)."
