"""Turn a Word (.docx) document's body into the same sanitised HTML the editor produces (mammoth).

A .docx is a zip archive, and a zip can inflate a megabyte into gigabytes. The archive is checked before mammoth
reads it (member count, declared sizes and their total, and every member actually inflated within those bounds),
and the whole conversion runs in the sandbox (config/sandbox.py), so a file that still finds a way to run away
costs a child process, never the web server.
"""

from __future__ import annotations

import io
import logging
import zipfile
import zlib

import mammoth
from django.utils.translation import gettext_lazy as _

from config import sandbox
from notices.sanitizing import BodyTooLarge, sanitize_body

log = logging.getLogger(__name__)

MAX_DOCX_BYTES = 10 * 1024 * 1024
MAX_MEMBERS = 1000
# A long công văn's document.xml is a few megabytes; images are ignored but still counted.
MAX_INFLATED_BYTES = 100 * 1024 * 1024
CHUNK = 1024 * 1024
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
    data = upload.read()
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise DocxImportError(_("The file is not a Word document (.docx)."))
    try:
        return sandbox.run("notices.docx_import:convert", data)
    except sandbox.SandboxError as exc:
        log.warning("docx import stopped in the sandbox: %s", exc.reason)
        raise DocxImportError(_("The Word document could not be read within the time and memory allowed.")) from exc


def convert(data: bytes) -> str:
    """Return the sanitised HTML body of a .docx given as bytes, after checking its archive (the sandbox's target)."""
    check_archive(data)
    try:
        result = mammoth.convert_to_html(io.BytesIO(data), style_map=STYLE_MAP, ignore_empty_paragraphs=True)
    except (KeyError, ValueError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise DocxImportError(_("The Word document could not be read.")) from exc
    for message in result.messages:
        log.info("docx import: %s", message)
    try:
        html = sanitize_body(result.value)
    except BodyTooLarge as exc:
        raise DocxImportError(str(exc)) from exc
    if not html:
        raise DocxImportError(_("The Word document has no text."))
    return html


def check_archive(data: bytes) -> None:
    """Refuse an archive with too many members, too much declared content, or a member that does not inflate."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_INFLATED_BYTES:
                raise DocxImportError(too_large_message())
            inflated = sum(inflate(archive, member) for member in members)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        raise DocxImportError(_("The Word document is damaged (its compressed content cannot be read).")) from exc
    if inflated > MAX_INFLATED_BYTES:
        raise DocxImportError(too_large_message())


def inflate(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> int:
    """Return the number of bytes the member inflates to, reading no more than its declared size allows.

    zipfile stops at the declared size and checks the CRC, so a member that lies about its size fails here.
    """
    total = 0
    with archive.open(member) as stream:
        while chunk := stream.read(CHUNK):
            total += len(chunk)
            if total > member.file_size:
                raise zipfile.BadZipFile(f"{member.filename} inflates beyond its declared size")
    return total


def too_large_message():
    return _("The Word document unpacks to more than %(mb)s MB: it is not a plain dispatch body.") % {
        "mb": MAX_INFLATED_BYTES // (1024 * 1024)
    }
