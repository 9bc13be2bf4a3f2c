from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from notices.signing import create_development_certificates


class Command(BaseCommand):
    help = "Create a self-signed development root and agency signing certificate (PKCS#12) under var/."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--directory", default=str(settings.VAR_DIR / "signing"), help="Where to write the files.")
        parser.add_argument("--password", default="dev-signing-password", help="Password of the PKCS#12 file.")

    def handle(self, *args, directory: str, password: str, **options) -> None:
        p12_path, root_path = create_development_certificates(Path(directory), password)
        self.stdout.write(self.style.SUCCESS(f"Wrote {p12_path} and {root_path} (development only, never commit)."))
        self.stdout.write("Add to your .env:")
        self.stdout.write(f"SIGNING_PKCS12_PATH={p12_path}")
        self.stdout.write(f"SIGNING_PKCS12_PASSWORD={password}")
