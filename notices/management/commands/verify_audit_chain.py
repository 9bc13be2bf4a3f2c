from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from notices.audit import verify_chain


class Command(BaseCommand):
    help = "Check the audit trail's hash chain; exit 1 naming the first event that was changed, removed or reordered."

    def handle(self, *args, **options) -> None:
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at event #{report.bad_seq}: {report.problem} "
                f"({report.count} events before it verified).",
                returncode=1,
            )
        self.stdout.write(f"Audit chain intact: {report.count} events.")
