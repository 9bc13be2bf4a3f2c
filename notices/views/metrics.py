"""`/metrics` for Prometheus: this process's metrics and the system's (notices/metrics.py), never public.

Without METRICS_TOKEN the address does not exist (404); a request without `Authorization: Bearer <token>` is
refused (403). Nothing else (no session, no role) opens it: a scraper is no member of staff.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from config import metrics_server
from notices.metrics import SystemCollector

SYSTEM = CollectorRegistry()
SYSTEM.register(SystemCollector())


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Return the metrics in Prometheus's text format to a request that carries the bearer token."""
    if not settings.METRICS_TOKEN:
        raise Http404
    if not metrics_server.authorised(request.headers.get("Authorization", ""), settings.METRICS_TOKEN):
        return HttpResponseForbidden()
    body = generate_latest(metrics_server.process_registry()) + generate_latest(SYSTEM)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
