"""The audit trail's web side: the middleware that lets events carry the request's IP address.

Recording and verifying live on the model (`AuditEvent.objects.record(...)`, `AuditEvent.objects.verify_chain()`),
so that a model method writes its event in its own transaction without importing a plain module. `record` and
`verify_chain` stay here as names for the concerns that already call them.
"""

from __future__ import annotations

from notices.models.audit import AuditEvent, ChainReport, client_ip, current_request

__all__ = ["ChainReport", "CurrentRequestMiddleware", "client_ip", "record", "verify_chain"]


class CurrentRequestMiddleware:
    """Remember the request being served, so events recorded by model methods carry its IP address."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


def record(actor, action: str, obj=None, details: dict | None = None, request=None) -> AuditEvent:
    """Append one event to the audit chain (see `AuditEventQuerySet.record`)."""
    return AuditEvent.objects.record(actor, action, obj, details, request=request)


def verify_chain() -> ChainReport:
    """Return the first event of the chain that was changed, removed or reordered (see the queryset)."""
    return AuditEvent.objects.verify_chain()
