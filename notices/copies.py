"""The copies of a personalised dispatch: each targeted organisation's own letter, rendered, signed and stored.

Issuing takes one register number and queues `make_copies` (a task on the render queue) once the transaction
commits; the task makes every copy still missing, so a replay or a second worker skips what exists, and starts
the fan-out only when every organisation has its copy: no delivery is ever written before its attachment exists.
"""

from __future__ import annotations

from celery import current_app
from django.db import transaction
from django.utils.translation import gettext as _

from config import sandbox
from notices import personalising, rendering, signing
from notices.models import Dispatch, DispatchCopy, codes
from notices.models.workflow import WorkflowError
from recipients.bulk import chunks

TEXT_CHUNK = 500  # organisations whose merge records are read in one query


def start(dispatch: Dispatch) -> None:
    """Queue the making of the dispatch's copies once the current transaction commits."""
    dispatch_id = dispatch.pk
    transaction.on_commit(lambda: current_app.send_task("notices.make_copies", args=[dispatch_id]))


def signed_pdf(dispatch: Dispatch, html: str) -> bytes:
    """Return the HTML rendered by WeasyPrint in the sandbox (config/sandbox.py) and signed when a certificate is set."""
    try:  # a runaway render costs the limited child process only
        pdf = sandbox.run("notices.rendering:render_html", html)
    except sandbox.SandboxError as exc:
        raise WorkflowError(_("The PDF could not be rendered: %(reason)s") % {"reason": exc}) from exc
    return signing.sign_if_configured(pdf, reason=f"Phát hành văn bản số {dispatch.notation}")


def missing_organizations(dispatch: Dispatch):
    """Return the targeted organisations that have no copy yet, in a stable order."""
    return (
        dispatch.target_organizations()
        .exclude(pk__in=dispatch.personal_copies.values("organization_id"))
        .order_by("pk")
    )


def make_copy(
    dispatch: Dispatch, organization, appendices: list, text: personalising.PersonalText
) -> DispatchCopy | None:
    """Render, sign and store one organisation's copy of `text`; return it (None when another worker stored it
    first)."""
    code, short_code = codes.new_verification_code(), DispatchCopy.objects.new_short_code()
    own = rendering.CopyText(text.subject, text.addressee_lines, text.body_html, code, short_code)
    data = signed_pdf(dispatch, rendering.dispatch_html(dispatch, appendices, copy=own))
    return DispatchCopy.objects.store(dispatch, organization, text.subject, data, code, short_code)


def make_missing(dispatch: Dispatch) -> int:
    """Make every copy the dispatch still lacks; return how many this call stored."""
    appendices, made = list(dispatch.appendices.all()), 0
    for organizations in chunks(missing_organizations(dispatch).iterator(), TEXT_CHUNK):
        texts = personalising.texts_for(dispatch, organizations)  # one query for the chunk's merge records
        made += sum(make_copy(dispatch, org, appendices, texts[org.pk]) is not None for org in organizations)
    return made


def complete(dispatch: Dispatch) -> bool:
    """Return whether every targeted organisation has its copy."""
    return not missing_organizations(dispatch).exists()
