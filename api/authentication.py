"""Who is calling: an API key in `Authorization: Bearer cv_...`, checked against its hash, expiry and IP allow-list."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from api.errors import forbidden
from api.models import ApiKey
from notices.clients import client_ip


class KeyAuthentication(authentication.BaseAuthentication):
    """Authenticate a request by its API key; the request then acts as the key's staff account."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header:
            return None
        if len(header) != 2 or header[0] != self.keyword:
            raise exceptions.AuthenticationFailed()
        key = ApiKey.objects.find(header[1])
        if key is None or not key.user.is_active:
            raise exceptions.AuthenticationFailed()
        if not key.allows_ip(client_ip(request._request)):
            raise forbidden("ip_not_allowed", _("This key may not be used from this address."))
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
        return key.user, key

    def authenticate_header(self, request) -> str:
        return self.keyword
