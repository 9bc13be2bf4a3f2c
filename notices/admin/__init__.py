"""The admin: one module per concern; DispatchAdmin combines the mixins each concern adds.

The site itself (headers, the audit of every change) is `notices.admin_site.AuditedAdminSite`.
"""

from __future__ import annotations

from notices.admin import accounts, audit, corrections, deliveries, dispatch, issuers  # noqa: F401  (registers the model admins)
