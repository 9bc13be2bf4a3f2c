"""The provider webhooks: anymail's views, made to refuse replays and malformed bodies.

Mailgun signs only a timestamp and a token, SendGrid's signed event webhook a timestamp and the body: the views
here accept each signature once and only while its timestamp is fresh (notices.tracking.claim_signature). Every webhook view answers a body it cannot parse (a JSON list where an
object belongs, a missing field) with 400, not a server error.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from typing import TYPE_CHECKING

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.webhooks.amazon_ses import AmazonSESInboundWebhookView, AmazonSESTrackingWebhookView
from anymail.webhooks.base import AnymailBasicAuthMixin
from anymail.webhooks.mailgun import MailgunInboundWebhookView, MailgunTrackingWebhookView
from anymail.webhooks.resend import ResendTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.conf import settings
from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _
from django.views import View

from notices import sns, tracking
from notices.views import webhook_shapes

if TYPE_CHECKING:  # the mixin's final class is an anymail webhook view (anymail ships no types)
    from anymail.webhooks.base import AnymailBaseWebhookView as AnymailWebhookView
else:
    AnymailWebhookView = object

log = logging.getLogger(__name__)
MALFORMED = (TypeError, KeyError, ValueError, AttributeError, IndexError, AssertionError)


def mailgun_signature(request) -> tuple[str, str]:
    """Return the (timestamp, token) Mailgun signed, from a JSON or a legacy form body (already validated)."""
    if request.content_type == "application/json":
        block = json.loads(request.body.decode("utf-8"))["signature"]
        return str(block["timestamp"]), str(block["token"])
    return request.POST["timestamp"], request.POST["token"]


def sendgrid_signature(request) -> tuple[str, str]:
    """Return the timestamp SendGrid signed and a digest of the body it signed with it (already validated).

    The token is the digest, not the signature: an ECDSA signature has a second valid form (s and n - s), so a
    replay could dodge a check on the signature's bytes, never one on what it covers.
    """
    body = hashlib.sha256(request.body).hexdigest()
    return request.headers["X-Twilio-Email-Event-Webhook-Timestamp"], body


class FreshSignatureMixin(AnymailWebhookView):
    """Refuse a call whose signed timestamp is stale or whose token was already used; free the token if the
    call then fails, so the provider's retry goes through."""

    def signed_timestamp_and_token(self, request) -> tuple[str, str] | None:
        """Return the signed timestamp and the once-only token of a validated call (None: nothing signed)."""
        return mailgun_signature(request)

    token_provider = ""  # the name its tokens are kept under (default: the provider's)
    max_age_setting = "WEBHOOK_MAX_AGE_SECONDS"  # how fresh a signed timestamp must be

    def validate_request(self, request) -> None:
        super().validate_request(request)
        signed = self.signed_timestamp_and_token(request)
        if signed is None:
            return
        timestamp, token = signed
        max_age = getattr(settings, self.max_age_setting)
        try:
            request.webhook_token_key = tracking.claim_signature(
                self.token_provider or self.esp_name, timestamp, token, max_age=max_age
            )
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


class FreshSendGridTrackingWebhookView(FreshSignatureMixin, SendGridTrackingWebhookView):
    """SendGrid's signed event webhook: its signature covers the timestamp and the body, so a captured call could
    be sent again as it was; the signature itself is the once-only token. Without a verification key nothing is
    signed (basic auth only) and each event is applied once by its provider event id (tracking.event_key)."""

    def signed_timestamp_and_token(self, request) -> tuple[str, str] | None:
        return sendgrid_signature(request) if self.webhook_verification_key else None

    def parse_events(self, request):
        events = json.loads(request.body.decode("utf-8"))
        if not isinstance(events, list) or not all(isinstance(event, dict) for event in events):
            raise ValueError("a SendGrid webhook body is a JSON list of events")
        return super().parse_events(request)


class ShapedBodyMixin(AnymailWebhookView):
    """Refuse a body that is not of its provider's shape (webhook_shapes.SHAPES) before anything reads it."""

    url_name = ""

    def validate_request(self, request) -> None:  # first in the MRO: anymail runs it before the others
        webhook_shapes.check_body(self.url_name, request)


def shaped(view, url_name: str):
    """Return the view function with its class made to check the body's shape first (same initkwargs)."""
    view_class = view.view_class
    checked: type[View] = type(view_class.__name__, (ShapedBodyMixin, view_class), {"url_name": url_name})
    return checked.as_view(**view.view_initkwargs)


class FreshResendTrackingWebhookView(FreshSignatureMixin, ResendTrackingWebhookView):
    """Resend signs through Svix: the signature covers the message id (svix-id, the same on each retry of one
    event), the timestamp and the body, and Svix itself refuses a timestamp five minutes off. The id is the
    once-only token, so a captured call is not accepted twice. Without RESEND_SIGNING_SECRET nothing is signed
    (basic auth only) and each event is applied once by its provider event id (tracking.event_key)."""

    def signed_timestamp_and_token(self, request) -> tuple[str, str] | None:
        if self._svix_webhook is None:
            return None
        return request.headers["svix-timestamp"], request.headers["svix-id"]


class SignedSNSMixin(FreshSignatureMixin):
    """Amazon SES reports through Amazon SNS, whose signature covers the whole message: accept a message only once
    it verifies (notices.sns), comes from an allowed topic (SNS_TOPIC_ARNS, when set), is fresh and was not accepted
    before (its MessageId is the once-only token, its Timestamp the signed time)."""

    token_provider, max_age_setting = "amazon-ses", "SNS_MAX_AGE_SECONDS"

    def signed_timestamp_and_token(self, request) -> tuple[str, str] | None:
        AnymailBasicAuthMixin.validate_request(self, request)  # the secret first: never fetch for a stranger
        message = json.loads(request.body.decode("utf-8"))
        try:
            sns.verify(message)
            topics = settings.SNS_TOPIC_ARNS
            if topics and message.get("TopicArn") not in topics:
                raise sns.Unverified(f"the topic {message.get('TopicArn')!r} is not allowed")
            return str(sns.signed_at(message)), str(message["MessageId"])
        except sns.Unverified as exc:
            log.warning("%s webhook refused: %s", self.esp_name, exc)
            raise AnymailWebhookValidationFailure(f"{self.esp_name} webhook refused: {exc}") from exc


class SignedSESTrackingWebhookView(SignedSNSMixin, AmazonSESTrackingWebhookView):
    pass


class SignedSESInboundWebhookView(SignedSNSMixin, AmazonSESInboundWebhookView):
    pass


def refusing_malformed(view):
    """Wrap a webhook view so that a body of the wrong shape is answered 400 with what is wrong, not 500."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except webhook_shapes.MalformedBody as exc:
            log.warning("Malformed webhook body at %s: %s", request.path, exc)
            return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
        except MALFORMED as exc:
            log.warning("Malformed webhook body at %s: %r", request.path, exc)
            return HttpResponseBadRequest(_("Malformed webhook body."), content_type="text/plain; charset=utf-8")

    return wrapped
