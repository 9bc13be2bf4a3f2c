from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from notices import issuing, rendering
from notices.models import Dispatch
from notices.sample import sample_dispatch


class Command(BaseCommand):
    help = (
        "Write the stored PDF of an issued dispatch (or a watermarked preview of a draft), "
        "or with --sample a built-in sample rendered and signed through the same code path."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("dispatch_id", nargs="?", type=int)
        parser.add_argument("--sample", action="store_true", help="Render the built-in sample dispatch.")
        parser.add_argument("--output", required=True, help="The PDF file to write.")

    def handle(self, *args, dispatch_id: int | None, sample: bool, output: str, **options) -> None:
        if sample == (dispatch_id is not None):
            raise CommandError("Give either a dispatch id or --sample.")
        data = self.sample_pdf() if sample else self.dispatch_pdf(dispatch_id)
        Path(output).write_bytes(data)
        self.stdout.write(self.style.SUCCESS(f"Wrote {output} ({len(data)} bytes)."))

    def sample_pdf(self) -> bytes:
        dispatch, appendices = sample_dispatch()
        return issuing.final_pdf(dispatch, appendices)

    def dispatch_pdf(self, dispatch_id: int) -> bytes:
        try:
            dispatch = Dispatch.objects.select_related("issuer", "drafting_unit", "signer").get(pk=dispatch_id)
        except Dispatch.DoesNotExist as exc:
            raise CommandError(f"There is no dispatch {dispatch_id}.") from exc
        if dispatch.pdf:
            dispatch.pdf.open("rb")
            with dispatch.pdf:
                return dispatch.pdf.read()
        if dispatch.number:
            raise CommandError(f"Dispatch {dispatch_id} is issued but has no stored PDF.")
        return rendering.render_preview(dispatch)
