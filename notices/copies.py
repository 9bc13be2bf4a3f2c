"""The copies of a personalised dispatch: each targeted organisation's own letter, rendered, signed and stored.

Issuing takes one register number and queues `make_copies` (a task on the render queue) once the transaction
commits. That task cuts the targeted organisations into ranges of COPY_RANGE and queues one `make_copy_range` task
per range, so every render worker takes part; a range task makes every copy still missing in its range (a replay
or a second worker skips what exists) and the last one to finish starts the fan-out: no delivery is ever written
before its attachment exists. Within a range, copies are made BATCH at a time in one sandboxed child
(notices/stamping.py lays the letter out once and stamps each organisation's own blocks), then signed here: the
private key never enters the sandbox.
"""

from __future__ import annotations

from celery import current_app
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config import sandbox
from notices import personalising, rendering, signing, stamping
from notices.metrics import RENDER_SECONDS
from notices.models import Dispatch, DispatchCopy, codes
from notices.models.workflow import WorkflowError
from recipients.bulk import chunks

COPY_RANGE = 1000  # organisations per range task: a few minutes of one worker's time
BATCH = 100  # copies rendered by one sandboxed child, which lays the letter out once for all of them


def start(dispatch: Dispatch) -> None:
    """Queue the making of the dispatch's copies once the current transaction commits."""
    dispatch_id = dispatch.pk
    transaction.on_commit(lambda: current_app.send_task("notices.make_copies", args=[dispatch_id]))


def signed_pdf(dispatch: Dispatch, html: str) -> bytes:
    """Return the HTML rendered by WeasyPrint in the sandbox (config/sandbox.py) and signed when a certificate is set."""
    try:  # a runaway render costs the limited child process only
        with RENDER_SECONDS.labels("dispatch").time():
            pdf = sandbox.run("notices.rendering:render_html", html)
    except sandbox.SandboxError as exc:
        raise WorkflowError(_("The PDF could not be rendered: %(reason)s") % {"reason": exc}) from exc
    return sign(dispatch, pdf)


def sign(dispatch: Dispatch, pdf: bytes) -> bytes:
    return signing.sign_if_configured(pdf, reason=f"Phát hành văn bản số {dispatch.notation}")


def missing_organizations(dispatch: Dispatch, after: int = 0, upto: int | None = None):
    """Return the targeted organisations (ids in (after, upto]) that have no copy yet, in a stable order."""
    missing = dispatch.organizations_without_copy().filter(pk__gt=after)
    return missing if upto is None else missing.filter(pk__lte=upto)


def plan_ranges(dispatch: Dispatch) -> list[tuple[int, int]]:
    """Cut the organisations still without a copy into (after, up to) ranges of COPY_RANGE ids."""
    ids = list(missing_organizations(dispatch).values_list("pk", flat=True))
    ranges, after = [], 0
    for start_at in range(0, len(ids), COPY_RANGE):
        upto = ids[min(start_at + COPY_RANGE, len(ids)) - 1]
        ranges.append((after, upto))
        after = upto
    return ranges


def make_missing(dispatch: Dispatch, after: int = 0, upto: int | None = None) -> int:
    """Make every copy the dispatch still lacks (in the id range given); return how many this call stored."""
    appendices, made = list(dispatch.appendices.all()), 0
    frame = stamping.skeleton(dispatch, appendices, personalising.addressee_count(dispatch))
    for organizations in chunks(missing_organizations(dispatch, after, upto).iterator(), BATCH):
        texts = personalising.texts_for(dispatch, organizations)  # one query for the batch's merge records
        made += make_batch(dispatch, frame, appendices, [(org, texts[org.pk]) for org in organizations])
        # Progress: the sweeper queues the making again only when no batch has finished for SEND_STUCK_SECONDS.
        Dispatch.objects.filter(pk=dispatch.pk).update(updated_at=timezone.now())
    return made


def own_text(text: personalising.PersonalText, short_code: str) -> rendering.CopyText:
    return rendering.CopyText(text.subject, text.addressee_lines, text.body_html, codes.new_verification_code(),
                              short_code)  # fmt: skip


def make_batch(dispatch: Dispatch, frame: stamping.Skeleton | None, appendices: list, batch: list) -> int:
    """Render, sign and store a batch of (organisation, personal text); return how many copies were stored."""
    short_codes = DispatchCopy.objects.new_short_codes(len(batch))
    own = [(org, own_text(text, code)) for (org, text), code in zip(batch, short_codes, strict=True)]
    parts = {org.pk: stamping.parts_of(frame, text, qr_for(dispatch, text)) if frame else None for org, text in own}
    stamped = [(org, text) for org, text in own if parts[org.pk] is not None]
    pdfs = stamped_pdfs(frame, [parts[org.pk] for org, _text in stamped]) if stamped else []
    made = [
        store(dispatch, org, text, sign(dispatch, pdf), full)
        for (org, text), (pdf, full) in zip(stamped, pdfs, strict=True)
    ]
    for org, text in own:  # a copy whose body does not fit the letter's blocks: rendered in full
        if parts[org.pk] is None:
            pdf = signed_pdf(dispatch, rendering.dispatch_html(dispatch, appendices, copy=text))
            made.append(store(dispatch, org, text, pdf, full_render=True))
    return sum(copy is not None for copy in made)


def stamped_pdfs(frame: stamping.Skeleton | None, batch: list) -> list[tuple[bytes, bool]]:
    """Return the batch's unsigned PDFs made in one sandboxed child, and whether each was laid out in full."""
    try:  # a runaway render costs the limited child process only
        with RENDER_SECONDS.labels("copies").time():
            return sandbox.run("notices.stamping:render_copies", frame, batch)
    except sandbox.SandboxError as exc:
        raise WorkflowError(_("The PDF could not be rendered: %(reason)s") % {"reason": exc}) from exc


def qr_for(dispatch: Dispatch, text: rendering.CopyText) -> str:
    return rendering.qr_svg(dispatch.verification_url_of(text.verification_code))


def store(dispatch: Dispatch, organization, text: rendering.CopyText, data: bytes, full_render: bool):
    return DispatchCopy.objects.store(dispatch, organization, text.subject, data, text.verification_code,
                                      text.short_code, full_render=full_render)  # fmt: skip


def complete(dispatch: Dispatch) -> bool:
    """Return whether every targeted organisation has its copy."""
    return not missing_organizations(dispatch).exists()
