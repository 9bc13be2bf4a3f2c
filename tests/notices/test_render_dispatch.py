"""The render_dispatch command: the built-in sample (notices/sample.py) signed, 3+ pages, read back; a dispatch's PDF."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from notices import signing
from tests.notices.conftest import issue_as_number, open_pdf


def test_the_sample_renders_signed_with_three_pages_and_its_parts(tmp_path, signing_certificate):
    output = tmp_path / "sample.pdf"
    call_command("render_dispatch", "--sample", "--output", str(output), stdout=io.StringIO())
    data = output.read_bytes()
    assert signing.check_signature(data).ok
    with open_pdf(data) as pdf:
        assert len(pdf.pages) >= 3
        text = " ".join(" ".join(page.extract_text() for page in pdf.pages).split())
    for part in ["Số: 05/BHXH-QLT", "Hà Nội, ngày 05 tháng 3 năm 2026", "KHẨN", "- Ủy ban nhân dân các phường, xã.",
                 "Phụ lục kèm theo:", "- Lưu: VT, QLT."]:  # fmt: skip
        assert part in text


@pytest.mark.django_db
def test_render_dispatch_writes_the_stored_pdf_of_an_issued_dispatch(draft, clerk, monkeypatch, tmp_path):
    preview = tmp_path / "preview.pdf"
    call_command("render_dispatch", str(draft.pk), "--output", str(preview), stdout=io.StringIO())
    with open_pdf(preview.read_bytes()) as pdf:
        assert "".join(c["text"] for c in pdf.pages[0].chars if c["size"] > 50) == "DỰ THẢO"
    issued = issue_as_number(draft, clerk, 3, monkeypatch)
    final = tmp_path / "final.pdf"
    call_command("render_dispatch", str(issued.pk), "--output", str(final), stdout=io.StringIO())
    issued.pdf.open("rb")
    with issued.pdf:
        assert final.read_bytes() == issued.pdf.read()


@pytest.mark.django_db
def test_render_dispatch_explains_a_wrong_call(tmp_path):
    with pytest.raises(CommandError, match="no dispatch 999"):
        call_command("render_dispatch", "999", "--output", str(tmp_path / "x.pdf"))
    with pytest.raises(CommandError, match="either"):
        call_command("render_dispatch", "--output", str(tmp_path / "x.pdf"))
