"""Uploaded PDFs rewritten without active content (notices/pdf_cleaning.py); encrypted ones refused."""

from __future__ import annotations

import io

import pikepdf
import pytest
from django.core.exceptions import ValidationError
from pikepdf import Array, Dictionary, Name, String
from pypdf import PdfReader

from notices.models import Appendix
from tests.notices.conftest import appendix

MARKER = "ma-doc-bi-an"  # a string that only the active parts carry


def hostile_pdf(small_pdf: bytes, arm) -> bytes:
    """Return the small PDF with active content added by `arm(pdf)`."""
    with pikepdf.open(io.BytesIO(small_pdf)) as pdf:
        arm(pdf)
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


def javascript(pdf) -> Dictionary:
    return Dictionary(S=Name.JavaScript, JS=String(f"app.alert('{MARKER}')"))


def open_action_javascript(pdf) -> None:
    pdf.Root.OpenAction = pdf.make_indirect(javascript(pdf))


def launch_embedded_exe(pdf) -> None:
    pdf.attachments["setup.exe"] = pikepdf.AttachedFileSpec(
        pdf, b"MZ\x90\x00" + MARKER.encode(), mime_type="application/x-msdownload"
    )
    launch = Dictionary(S=Name.Launch, F=String("setup.exe"), Win=Dictionary(F=String("setup.exe")))
    pdf.Root.OpenAction = launch
    link = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array([0, 0, 100, 100]), A=launch)
    pdf.pages[0].obj.Annots = pdf.make_indirect(Array([pdf.make_indirect(link)]))


def additional_actions(pdf) -> None:
    pdf.pages[0].obj.AA = Dictionary(O=javascript(pdf))
    pdf.Root.AA = Dictionary(WC=javascript(pdf))


def document_javascript(pdf) -> None:
    pdf.Root.Names = Dictionary(
        JavaScript=Dictionary(Names=Array([String("auto"), pdf.make_indirect(javascript(pdf))]))
    )


def rich_media(pdf) -> None:
    media = Dictionary(Type=Name.Annot, Subtype=Name.RichMedia, Rect=Array([0, 0, 50, 50]),
                       RichMediaContent=Dictionary(Assets=Dictionary(Names=Array([String(MARKER)]))))  # fmt: skip
    pdf.pages[0].obj.Annots = Array([pdf.make_indirect(media)])


def all_dictionaries(pdf):
    seen, pending = [], [pdf.trailer, *pdf.objects]
    while pending:
        obj = pending.pop()
        kind = getattr(obj, "_type_code", None)
        if kind in (pikepdf.ObjectType.dictionary, pikepdf.ObjectType.stream):
            seen.append(obj)
            pending.extend(v for v in obj.values() if not getattr(v, "is_indirect", True))
        elif kind == pikepdf.ObjectType.array:
            pending.extend(v for v in obj if not getattr(v, "is_indirect", True))
    return seen


def active_parts(data: bytes) -> list[str]:
    """Return every trace of active content left in a stored PDF."""
    found = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        if len(pdf.attachments):
            found.append("attachments")
        for obj in all_dictionaries(pdf):
            found += [key for key in obj.keys() if key in {"/OpenAction", "/AA", "/JS", "/JavaScript", "/EmbeddedFiles",
                                                           "/EF", "/RichMediaContent"}]  # fmt: skip
            if obj.get("/S") in (Name.JavaScript, Name.Launch) or obj.get("/Subtype") == Name.RichMedia:
                found.append(str(obj.get("/S") or obj.get("/Subtype")))
    if MARKER.encode() in data:
        found.append("marker")
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("arm", [open_action_javascript, launch_embedded_exe, additional_actions, document_javascript,
                                 rich_media])  # fmt: skip
def test_active_content_is_stripped_from_the_stored_appendix(draft, small_pdf, arm):
    data = hostile_pdf(small_pdf, arm)
    assert active_parts(data), "the test PDF must carry what is to be removed"
    item = appendix(draft, "phu-luc.pdf", data)
    item.full_clean()
    item.save()
    stored = Appendix.objects.get(pk=item.pk).read()
    assert active_parts(stored) == []
    assert "Phụ lục: danh sách đơn vị" in PdfReader(io.BytesIO(stored)).pages[0].extract_text()


@pytest.mark.django_db
@pytest.mark.parametrize("user_password", ["mat-khau", ""])
def test_an_encrypted_appendix_is_refused(draft, small_pdf, user_password):
    with pikepdf.open(io.BytesIO(small_pdf)) as pdf:
        out = io.BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(owner="chu-so-huu", user=user_password))
    with pytest.raises(ValidationError, match="encrypted"):
        appendix(draft, "khoa.pdf", out.getvalue()).full_clean()
