"""Turn a Word (.docx) document's body into the same sanitised HTML the editor produces (mammoth)."""

from __future__ import annotations

import logging
import zipfile

import mammoth
from django.utils.translation import gettext_lazy as _

from notices.sanitizing import sanitize_body

log = logging.getLogger(__name__)

MAX_DOCX_BYTES = 10 * 1024 * 1024
# mammoth drops underline unless told; headings become paragraphs (a công văn body has none).
STYLE_MAP = """
u => u
p[style-name='Heading 1'] => p:fresh
p[style-name='Heading 2'] => p:fresh
p[style-name='Title'] => p:fresh
"""


class DocxImportError(ValueError):
    """The upload is not a readable Word document; the message is shown to the user."""


def docx_to_html(upload) -> str:
    """Return the sanitised HTML of a .docx upload's body (paragraphs, emphasis, lists, tables)."""
    if upload.size > MAX_DOCX_BYTES:
        raise DocxImportError(_("The Word file is larger than 10 MB."))
    upload.seek(0)
    if not zipfile.is_zipfile(upload):
        raise DocxImportError(_("The file is not a Word document (.docx)."))
    upload.seek(0)
    try:
        result = mammoth.convert_to_html(upload, style_map=STYLE_MAP, ignore_empty_paragraphs=True)
    except (KeyError, ValueError, zipfile.BadZipFile, OSError) as exc:
        raise DocxImportError(_("The Word document could not be read.")) from exc
    for message in result.messages:
        log.info("docx import: %s", message)
    html = sanitize_body(result.value)
    if not html:
        raise DocxImportError(_("The Word document has no text."))
    return html
