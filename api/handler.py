"""The API's exception handler: every error as JSON with a stable code (`api.errors`)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from api.errors import ApiError, body


def handler(exc, context):
    """Answer every error of the API as JSON with a stable code (a DRF exception handler)."""
    if isinstance(exc, RequestDataTooBig):
        exc = ApiError("body_too_large", _("The request body is too large."), status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    headers = {k: v for k, v in response.headers.items() if k in ("Retry-After", "WWW-Authenticate", "Allow")}
    return Response(body(exc), status=response.status_code, headers=headers)
