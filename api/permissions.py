"""What a key may do: each view names the scope it needs (`required_scope`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from api.errors import forbidden


class HasScope(BasePermission):
    """Allow a request whose key holds the view's `required_scope`."""

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if key is None:
            return False
        scope = getattr(view, "required_scope", None)
        if scope and not key.has_scope(scope):
            raise forbidden("scope_missing", _("This key lacks the “%(scope)s” scope.") % {"scope": scope})
        return True
