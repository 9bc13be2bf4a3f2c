from __future__ import annotations

from django.core.management.base import BaseCommand

from recipients.seed import seed_directory


class Command(BaseCommand):
    help = "Create or update the built-in directory of Hà Nội bodies and their groups (idempotent)."

    def handle(self, *args, **options) -> None:
        counts = seed_directory()
        self.stdout.write(f"organizations={counts['organizations']} groups={counts['groups']}")
