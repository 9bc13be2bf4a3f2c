"""Appendices: PDF by content (not by name), size-limited, handed to the email in order."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from tests.notices.conftest import appendix


@pytest.mark.django_db
def test_a_real_pdf_is_accepted_and_returned_for_the_email(draft, small_pdf):
    second = appendix(draft, "b.pdf", small_pdf, position=2)
    first = appendix(draft, "a.pdf", small_pdf, position=1)
    for item in (second, first):
        item.full_clean()
        item.save()
    attachments = draft.appendix_attachments()
    assert [name for name, _data in attachments] == ["du-thao-phu-luc-1.pdf", "du-thao-phu-luc-2.pdf"]
    for _name, data in attachments:  # stored as qpdf rewrote it: the same page, nothing active
        assert "Phụ lục: danh sách đơn vị" in PdfReader(io.BytesIO(data)).pages[0].extract_text()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("virus.pdf", b"MZ\x90\x00 an executable renamed", "not a PDF"),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj garbage", "damaged"),
    ],
)
def test_a_file_is_judged_by_its_content_not_its_name(draft, name, data, message):
    with pytest.raises(ValidationError, match=message):
        appendix(draft, name, data).full_clean()


@pytest.mark.django_db
def test_an_oversized_appendix_is_refused(draft, small_pdf, settings):
    settings.APPENDIX_MAX_BYTES = len(small_pdf) - 1
    with pytest.raises(ValidationError, match="larger than"):
        appendix(draft, "a.pdf", small_pdf).full_clean()
