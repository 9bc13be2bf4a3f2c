"""Where uploaded and generated files are stored: under random names, never served from the media folder.

Stored files (dispatch PDFs, appendices) are only handed out by the views in `notices/views/files.py`, which check
the user's login and role and audit each download. A name says nothing about what the file is, so a guessed or
leaked path tells nobody anything and cannot be enumerated.
"""

from __future__ import annotations

import secrets

from django.utils import timezone

NAME_BYTES = 24  # 192 random bits, 32 characters in URL-safe base64


def random_name(suffix: str = ".pdf") -> str:
    """Return a fresh file name of 32 random characters (192 bits) and the suffix."""
    return f"{secrets.token_urlsafe(NAME_BYTES)}{suffix}"


def appendix_name(instance, filename: str) -> str:
    """Return "appendices/<year>/<random>.pdf" for an uploaded appendix (an `upload_to`; the upload's own name
    is not kept)."""
    return f"appendices/{timezone.localdate().year}/{random_name()}"
