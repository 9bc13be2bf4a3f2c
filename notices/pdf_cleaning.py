"""Rewrite an uploaded PDF without active content, refusing what cannot be made safe (pikepdf, i.e. qpdf).

An appendix is mailed under the agency's name to thousands of organisations, so it may carry nothing that runs or
hides: JavaScript (document, page, annotation or form actions), /OpenAction and /AA triggers, /Launch and other
actions that open files or send data, embedded files, rich media, and XFA forms are removed; an encrypted file is
refused (it cannot be checked, and the receivers' software would ask for a password). Run it in the sandbox.
"""

from __future__ import annotations

import io
import logging

import pikepdf
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)

# Keys that start or hold active content wherever they appear.
ACTIVE_KEYS = {"/OpenAction", "/AA", "/JS", "/JavaScript", "/EmbeddedFiles", "/EF", "/XFA",
               "/RichMediaContent", "/RichMediaSettings"}  # fmt: skip
# Actions that run code, open files or programs, or send data out; a link that "goes to" a page or URI stays.
ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/ResetForm", "/Rendition", "/Movie",
                  "/Sound", "/RichMediaExecute", "/GoToE", "/GoToR", "/Hide", "/SetOCGState", "/Trans", "/GoTo3DView"}  # fmt: skip
# Annotations that only exist to carry media or files.
ACTIVE_ANNOTATIONS = {"/RichMedia", "/FileAttachment", "/Screen", "/Movie", "/Sound", "/3D"}


def refuse(message, code: str):
    return ValidationError(message, code=code)


def open_pdf(data: bytes) -> pikepdf.Pdf:
    """Return the parsed PDF, refusing an encrypted or unreadable file."""
    try:
        pdf = pikepdf.Pdf.open(io.BytesIO(data))
    except pikepdf.PasswordError as exc:
        raise refuse(_("The appendix PDF is encrypted (password-protected): upload it without protection."),
                     "encrypted_pdf") from exc  # fmt: skip
    except (pikepdf.PdfError, ValueError, RuntimeError) as exc:
        raise refuse(_("The appendix PDF is damaged and cannot be read."), "broken_pdf") from exc
    if pdf.is_encrypted:
        raise refuse(_("The appendix PDF is encrypted (password-protected): upload it without protection."),
                     "encrypted_pdf")  # fmt: skip
    return pdf


DICTIONARY_TYPES = {pikepdf.ObjectType.dictionary, pikepdf.ObjectType.stream}


def is_dictionary(value) -> bool:
    """Return whether the object has keys (a dictionary, or a stream's dictionary)."""
    return getattr(value, "_type_code", None) in DICTIONARY_TYPES


def is_active_action(value) -> bool:
    return is_dictionary(value) and value.get("/S") in ACTIVE_ACTIONS


def dictionaries(pdf: pikepdf.Pdf):
    """Yield every dictionary of the file: each indirect object and every dictionary nested directly in one."""
    pending = [pdf.trailer, *pdf.objects]
    while pending:
        obj = pending.pop()
        code = getattr(obj, "_type_code", None)
        if code in DICTIONARY_TYPES:
            yield obj
            pending.extend(value for value in obj.values() if not getattr(value, "is_indirect", True))
        elif code == pikepdf.ObjectType.array:
            pending.extend(value for value in obj if not getattr(value, "is_indirect", True))


def neuter(dictionary) -> list[str]:
    """Remove the active keys and actions from one dictionary; return what was removed."""
    removed = [key for key in list(dictionary.keys()) if key in ACTIVE_KEYS]
    for key in removed:
        del dictionary[key]
    for key in ("/A", "/Next"):
        if is_active_action(dictionary.get(key)):
            removed.append(f"{key} {dictionary[key].get('/S')}")
            del dictionary[key]
    return removed


def strip_annotations(pdf: pikepdf.Pdf) -> list[str]:
    """Drop the annotations that carry media or files from every page."""
    removed = []
    for page in pdf.pages:
        annotations = page.obj.get("/Annots")
        if isinstance(annotations, pikepdf.Array):
            # pikepdf's stub says Array.__iter__ returns an Iterable, not the Iterator it is.
            kept = [a for a in annotations if not (is_dictionary(a) and a.get("/Subtype") in ACTIVE_ANNOTATIONS)]  # type: ignore[attr-defined]
            if len(kept) != len(annotations):
                removed.append(f"{len(annotations) - len(kept)} media or file annotation(s)")
                page.obj["/Annots"] = pikepdf.Array(kept)
    return removed


def clean_pdf(data: bytes) -> bytes:
    """Return the PDF rewritten without active content; raise ValidationError for an encrypted, broken or empty one."""
    with open_pdf(data) as pdf:
        if len(pdf.pages) < 1:
            raise refuse(_("The appendix PDF has no pages."), "empty_pdf")
        removed = strip_annotations(pdf)
        for dictionary in dictionaries(pdf):
            removed += neuter(dictionary)
        if removed:
            log.info("Active content removed from an appendix: %s", ", ".join(removed))
        output = io.BytesIO()
        pdf.remove_unreferenced_resources()
        pdf.save(output, linearize=False, object_stream_mode=pikepdf.ObjectStreamMode.preserve)
    return output.getvalue()
