from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from notices import issuing, rendering
from notices.models import Appendix, Dispatch
from notices.sample import sample_dispatch


class Command(BaseCommand):
    help = (
        "Write the stored PDF of an issued dispatch (or a watermarked preview of a draft), "
        "or with --sample a built-in sample rendered and signed through the same code path; "
        "with --appendix N, the copy of an appendix that is emailed (signed and stamped once issued)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("dispatch_id", nargs="?", type=int)
        parser.add_argument("--sample", action="store_true", help="Render the built-in sample dispatch.")
        parser.add_argument("--appendix", type=int, metavar="N", help="Write the dispatch's appendix number N instead.")
        parser.add_argument("--output", required=True, help="The PDF file to write.")

    def handle(self, *args, dispatch_id: int | None, sample: bool, appendix: int | None, output: str, **options):
        if sample == (dispatch_id is not None):
            raise CommandError("Give either a dispatch id or --sample.")
        if appendix is not None:
            data = self.appendix_pdf(dispatch_id, appendix)
        else:
            data = self.sample_pdf() if dispatch_id is None else self.dispatch_pdf(dispatch_id)
        Path(output).write_bytes(data)
        self.stdout.write(self.style.SUCCESS(f"Wrote {output} ({len(data)} bytes)."))

    def sample_pdf(self) -> bytes:
        dispatch, appendices = sample_dispatch()
        return issuing.final_pdf(dispatch, appendices)

    def appendix_pdf(self, dispatch_id: int | None, position: int) -> bytes:
        if dispatch_id is None:
            raise CommandError("--appendix needs a dispatch id.")
        found = Appendix.objects.filter(dispatch_id=dispatch_id, position=position).first()
        if found is None:
            raise CommandError(f"Dispatch {dispatch_id} has no appendix {position}.")
        return found.read_mailed()

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
