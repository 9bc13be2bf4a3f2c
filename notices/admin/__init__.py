"""The admin: one module per concern; DispatchAdmin combines the mixins each concern adds."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from notices.admin import accounts, audit, deliveries, dispatch, issuers  # noqa: F401  (registers the model admins)

admin.site.site_header = _("Official dispatches — Hà Nội social security")
admin.site.site_title = _("Official dispatches")
admin.site.index_title = _("Administration")
