"""The body allow-list: rich text stays, anything that runs, loads or hides goes."""

from __future__ import annotations

import pytest

from notices.sanitizing import sanitize_body


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
