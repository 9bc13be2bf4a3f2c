from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = _("Official dispatches")

    def ready(self) -> None:
        from notices import tracking  # noqa: F401  (connects the receiver of anymail's tracking events)
