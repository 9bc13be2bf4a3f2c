from __future__ import annotations

from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "config"
    verbose_name = "Công văn"

    def ready(self) -> None:
        from config import checks  # noqa: F401  (registers the settings checks)
