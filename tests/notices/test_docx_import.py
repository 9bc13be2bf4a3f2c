"""Import from Word: a real .docx built in the test becomes the same sanitised HTML the editor makes."""

from __future__ import annotations

import io
import zipfile

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


pytestmark = pytest.mark.django_db  # not used by the sandboxed conversion; keeps the file runnable alone


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


def zip_bomb(inflated_mb: int) -> bytes:
    """Return a .docx whose document.xml really inflates to `inflated_mb` megabytes (of spaces in a paragraph)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">')
            block = b" " * (1024 * 1024)
            for _ in range(inflated_mb):
                member.write(block)
            member.write(b"</w:document>")
    return buffer.getvalue()


CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'wordprocessingml.document.main+xml"/></Types>'
)


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    data = zip_bomb(120)
    assert len(data) < 200 * 1024  # 120 MB packed into about a hundred kilobytes
    with pytest.raises(DocxImportError, match="unpacks to more than 100 MB"):
        docx_to_html(SimpleUploadedFile("bom.docx", data))


def declare_size(data: bytes, name: str, size: int) -> bytes:
    """Return the zip with the member's uncompressed size rewritten in its local and central headers."""
    data = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(name)
    data[info.header_offset + 22 : info.header_offset + 26] = size.to_bytes(4, "little")
    central = data.rindex(b"PK\x01\x02", 0, data.rindex(name.encode()))
    data[central + 24 : central + 28] = size.to_bytes(4, "little")
    return bytes(data)


def test_a_member_that_lies_about_its_size_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", b"<w:document>" + b" " * 3_000_000 + b"</w:document>")
    lying = declare_size(buffer.getvalue(), "word/document.xml", 1000)
    assert zipfile.ZipFile(io.BytesIO(lying)).getinfo("word/document.xml").file_size == 1000
    with pytest.raises(DocxImportError, match="damaged"):
        docx_to_html(SimpleUploadedFile("lies.docx", lying))


def test_a_corrupt_deflate_stream_is_a_clear_error_not_a_crash():
    data = bytearray(word_file(build_body).read())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("word/document.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 10 : start + 60] = bytes(range(50))  # garbage inside the compressed bytes
    with pytest.raises(DocxImportError, match="damaged"):
        docx_to_html(SimpleUploadedFile("hong.docx", bytes(data)))


def test_the_conversion_runs_in_the_sandbox_and_a_runaway_is_reported(settings):
    settings.SANDBOX_TIMEOUT_SECONDS = 0.01  # no conversion finishes this fast: it is stopped like a runaway
    with pytest.raises(DocxImportError, match="time and memory allowed"):
        docx_to_html(word_file(build_body))
    settings.SANDBOX_TIMEOUT_SECONDS = 60
    assert docx_to_html(word_file(build_body)).startswith("<p>Bảo hiểm xã hội")
