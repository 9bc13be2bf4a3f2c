"""Loaded once by the sandbox's fork server: set Django up so that each sandboxed child starts ready.

The fork server is a small single-threaded process started on the first sandboxed call; every child is forked
from it, never from the threaded web process. Setting Django up here, once, spares each child seconds of imports.
"""

from __future__ import annotations

import logging
import os

import django
import pikepdf  # noqa: F401 - loaded once here, each child starts with the PDF and layout libraries ready
import weasyprint  # noqa: F401

if os.environ.get("DJANGO_SETTINGS_MODULE"):
    try:
        django.setup()
    except Exception:  # noqa: BLE001 - each child then sets Django up itself
        logging.getLogger(__name__).warning("The sandbox fork server could not set Django up.", exc_info=True)
