"""Import from Word: a real .docx built in the test becomes the same sanitised HTML the editor makes."""

from __future__ import annotations

import io

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from notices.docx_import import DocxImportError, docx_to_html


def word_file(build) -> SimpleUploadedFile:
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return SimpleUploadedFile("cong-van.docx", buffer.getvalue())


def build_body(document) -> None:
    document.add_paragraph("Bảo hiểm xã hội thành phố Hà Nội đề nghị:")
    emphasised = document.add_paragraph("Nội dung ")
    emphasised.add_run("quan trọng").bold = True
    emphasised.add_run(" và ")
    emphasised.add_run("gạch chân").underline = True
    document.add_paragraph("Rà soát đơn vị nợ đóng;", style="List Bullet")
    document.add_paragraph("Báo cáo kết quả.", style="List Bullet")
    document.add_paragraph("Trân trọng./.")


def test_it_keeps_paragraphs_bold_underline_and_lists():
    html = docx_to_html(word_file(build_body))
    assert html == (
        "<p>Bảo hiểm xã hội thành phố Hà Nội đề nghị:</p>"
        "<p>Nội dung <strong>quan trọng</strong> và <u>gạch chân</u></p>"
        "<ul><li>Rà soát đơn vị nợ đóng;</li><li>Báo cáo kết quả.</li></ul>"
        "<p>Trân trọng./.</p>"
    )


def test_it_refuses_a_file_that_is_not_a_word_document():
    with pytest.raises(DocxImportError, match="not a Word document"):
        docx_to_html(SimpleUploadedFile("cong-van.docx", b"%PDF-1.7 renamed"))


def test_it_refuses_a_word_document_without_text():
    with pytest.raises(DocxImportError, match="no text"):
        docx_to_html(word_file(lambda document: None))
