from __future__ import annotations

import getpass
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recipients.importing import ScriptActor, import_directory
from recipients.models import OrganizationKind
from recipients.tabular import ImportFileError


def os_user() -> str:
    """Return the name of the operating-system user running the command (its uid when it has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


class Command(BaseCommand):
    help = "Import organisations from a CSV or XLSX file (all or nothing unless --valid-only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--kind", choices=OrganizationKind.values, default="", help="Kind of rows without one.")
        parser.add_argument("--group", default="", help="Add every imported organisation to this static group.")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and report; write nothing.")
        parser.add_argument("--valid-only", action="store_true", help="Write the valid rows even if others fail.")

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
            summary = import_directory(
                data,
                path.name,
                default_kind=options["kind"],
                group_name=options["group"],
                dry_run=options["dry_run"],
                valid_only=options["valid_only"],
                user=ScriptActor(f"manage.py import_recipients ({os_user()})"),
            )
        except (OSError, ImportFileError) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        self.stdout.write(summary.line())
        for column in summary.ignored_columns:
            self.stderr.write(f"ignored column: {column}")
        for error in summary.errors:
            self.stderr.write(str(error))
        if not summary.written:
            reason = "dry run" if options["dry_run"] else "the file has errors (fix them, or use --valid-only)"
            self.stderr.write(f"Nothing was written: {reason}.")
            if summary.errors:
                raise CommandError(f"{summary.error_rows} rows have errors.")
