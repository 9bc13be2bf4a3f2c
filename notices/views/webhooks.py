"""The provider webhooks: anymail's views, made to refuse replays and malformed bodies.

Mailgun signs only a timestamp and a token: the views here accept each signature once and only while it is fresh
(notices.tracking.claim_signature). Every webhook view answers a body it cannot parse (a JSON list where an
object belongs, a missing field) with 400, not a server error.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import TYPE_CHECKING

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.webhooks.mailgun import MailgunInboundWebhookView, MailgunTrackingWebhookView
from django.http import HttpResponseBadRequest

from notices import tracking

if TYPE_CHECKING:  # the mixin's final class is an anymail webhook view (anymail ships no types)
    from anymail.webhooks.base import AnymailBaseWebhookView as AnymailWebhookView
else:
    AnymailWebhookView = object

log = logging.getLogger(__name__)
MALFORMED = (TypeError, KeyError, ValueError, AttributeError, IndexError)


def mailgun_signature(request) -> tuple[str, str]:
    """Return the (timestamp, token) Mailgun signed, from a JSON or a legacy form body (already validated)."""
    if request.content_type == "application/json":
        block = json.loads(request.body.decode("utf-8"))["signature"]
        return str(block["timestamp"]), str(block["token"])
    return request.POST["timestamp"], request.POST["token"]


class FreshSignatureMixin(AnymailWebhookView):
    """Refuse a call whose signed timestamp is stale or whose token was already used; free the token if the
    call then fails, so the provider's retry goes through."""

    def validate_request(self, request) -> None:
        super().validate_request(request)
        timestamp, token = mailgun_signature(request)
        try:
            request.webhook_token_key = tracking.claim_signature(self.esp_name, timestamp, token)
        except tracking.StaleOrReplayed as exc:
            log.warning("%s webhook refused: %s", self.esp_name, exc)
            raise AnymailWebhookValidationFailure(f"{self.esp_name} webhook refused: {exc}") from exc

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except Exception:
            if key := getattr(request, "webhook_token_key", None):
                tracking.release_signature(key)
            raise


class FreshMailgunTrackingWebhookView(FreshSignatureMixin, MailgunTrackingWebhookView):
    pass


class FreshMailgunInboundWebhookView(FreshSignatureMixin, MailgunInboundWebhookView):
    pass


def refusing_malformed(view):
    """Wrap a webhook view so that a body of the wrong shape is answered 400, not 500."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except MALFORMED as exc:
            log.warning("Malformed webhook body at %s: %r", request.path, exc)
            return HttpResponseBadRequest("Malformed webhook body")

    return wrapped
