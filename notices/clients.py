"""Who is calling: the caller's address as the web server gives it."""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest


def client_ip(request: HttpRequest | None) -> str | None:
    """Return the caller's IP address, or None when there is no request or no valid address.

    It is REMOTE_ADDR: the proxy in front of us must set it (e.g. gunicorn's forwarded-allow-ips), never a header
    the caller could write.
    """
    if request is None:
        return None
    try:
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return None
