"""The API's errors: JSON with a stable code and a message in Vietnamese (English on `Accept-Language: en`).

Every refusal raises an `ApiError` (or one of DRF's own exceptions, given a code here); `handler` turns it into
`{"code": ..., "message": ..., "fields": {...}}`. Codes never change; messages may be reworded.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status

# DRF's own exceptions, under our codes and words.
DRF_ERRORS = {
    exceptions.NotAuthenticated: ("key_missing", _("An API key is required: send “Authorization: Bearer <key>”.")),
    exceptions.AuthenticationFailed: ("key_invalid", _("The API key is unknown, revoked or expired.")),
    exceptions.PermissionDenied: ("forbidden", _("This key may not do that.")),
    exceptions.NotFound: ("not_found", _("Not found, or this key may not see it.")),
    exceptions.MethodNotAllowed: ("method_not_allowed", _("This method is not allowed here.")),
    exceptions.NotAcceptable: ("not_acceptable", _("Only JSON is served here.")),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", _("Send the body as JSON (application/json).")),
    exceptions.ParseError: ("malformed_json", _("The body is not valid JSON.")),
    exceptions.ValidationError: ("invalid", _("Some fields are not valid.")),
    exceptions.Throttled: ("rate_limited", _("Too many requests for this key: wait and try again.")),
}


class ApiError(exceptions.APIException):
    """A refusal with its own code and message (and HTTP status)."""

    def __init__(self, code: str, message, status_code: int = status.HTTP_400_BAD_REQUEST, fields=None) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.code = code
        self.fields = fields


def forbidden(code: str, message) -> ApiError:
    return ApiError(code, message, status.HTTP_403_FORBIDDEN)


def conflict(code: str, message) -> ApiError:
    return ApiError(code, message, status.HTTP_409_CONFLICT)


def body(exc: exceptions.APIException) -> dict:
    """Return the JSON body of an error: its code, its message and, for invalid fields, their messages."""
    data: dict
    if isinstance(exc, ApiError):
        data = {"code": exc.code, "message": str(exc.detail)}
        if exc.fields:
            data["fields"] = exc.fields
        return data
    code, message = next((v for k, v in DRF_ERRORS.items() if isinstance(exc, k)), ("error", _("The request failed.")))
    data = {"code": code, "message": str(message)}
    if isinstance(exc, exceptions.ValidationError):
        data["fields"] = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    return data
