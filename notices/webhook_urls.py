"""anymail's webhook URLs (same names, namespace "anymail"), with Mailgun's, SendGrid's and Resend's replay-safe views and Amazon SES's SNS-signed ones, every view
checking its body's shape first and answering a malformed body with 400 (see notices/views/webhooks.py)."""

from __future__ import annotations

from anymail import urls as anymail_urls
from django.urls import URLPattern

from notices.views import webhooks

app_name = "anymail"

REPLACED = {
    "mailgun_tracking_webhook": webhooks.FreshMailgunTrackingWebhookView.as_view(),
    "mailgun_inbound_webhook": webhooks.FreshMailgunInboundWebhookView.as_view(),
    "sendgrid_tracking_webhook": webhooks.FreshSendGridTrackingWebhookView.as_view(),
    "resend_tracking_webhook": webhooks.FreshResendTrackingWebhookView.as_view(),
    "amazon_ses_tracking_webhook": webhooks.SignedSESTrackingWebhookView.as_view(),
    "amazon_ses_inbound_webhook": webhooks.SignedSESInboundWebhookView.as_view(),
}


def guarded(pattern: URLPattern) -> URLPattern:
    """Return the pattern with its view replaced where needed and wrapped against malformed bodies."""
    name = pattern.name or ""
    view = webhooks.shaped(REPLACED.get(name, pattern.callback), name)
    return URLPattern(pattern.pattern, webhooks.refusing_malformed(view), pattern.default_args, pattern.name)


urlpatterns = [guarded(pattern) for pattern in anymail_urls.urlpatterns]
