"""Issuing and recalling a dispatch: the orchestration across the register, the document and the sending.

`issue` checks the transition, takes the register number (the series counter stays row-locked until the
transaction commits, so numbers are never skipped or repeated), renders and signs the PDF, stores it, writes the
audit event and, once the transaction commits, queues the fan-out of an emailed dispatch (of a personalised one:
the making of its copies, which starts the fan-out once every copy exists). `recall` marks the
dispatch recalled and queues the recall notices, in one transaction. `issue_scheduled` is how beat issues a
scheduled dispatch whose time has come: through `issue`, in the name of the clerk who scheduled it.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from notices import copies, fanout, rendering, signing, working_days
from notices import recall as recall_notices
from notices.models import AuditEvent, Dispatch, DispatchStatus
from notices.models.workflow import NO_LONGER_APPLIES, TRANSITIONS, WorkflowError

log = logging.getLogger(__name__)


def final_pdf(dispatch: Dispatch, appendices: list | None = None) -> bytes:
    """Return the dispatch rendered in the Decree-30 layout and signed when a certificate is set."""
    return copies.signed_pdf(dispatch, rendering.dispatch_html(dispatch, appendices))


def issue(dispatch: Dispatch, user) -> Dispatch:
    """Number, render, sign and store an approved dispatch, then queue its sending once the transaction commits.

    Raise WorkflowError (the refusal audited) when the user or the dispatch's state does not allow it; a secret
    dispatch is registered in its own series and never emailed.
    """
    dispatch.ensure_allowed(user, "issue")
    with transaction.atomic():
        locked = Dispatch.objects.select_for_update().get(pk=dispatch.pk)
        if locked.status not in TRANSITIONS["issue"].sources:  # another clerk issued it meanwhile
            raise WorkflowError(NO_LONGER_APPLIES % {"status": locked.get_status_display()})
        dispatch.register(user)
        if dispatch.is_urgent and not dispatch.acknowledge_by:  # urgent: confirmed by the next working day
            dispatch.acknowledge_by = working_days.add_working_days(working_days.today(), 1)
        pdf = final_pdf(dispatch)
        # Decree 30: each separate appendix file is signed too. Everything is signed before anything is stored: a
        # time-stamping authority that fails midway (signing.TimestampingUnavailable) leaves no file behind.
        appendices = [(appendix, signing.sign_appendix(appendix, dispatch)) for appendix in dispatch.appendices.all()]
        dispatch.store_pdf(pdf)
        for appendix, signed in appendices:
            appendix.store_signed(signed)
        dispatch.save()
        details = {"notation": dispatch.notation, "pdf_sha256": dispatch.pdf_sha256}
        AuditEvent.objects.record(user, "issue", dispatch, details)
        if dispatch.personalised:  # each organisation's copy first; the fan-out starts once all exist
            copies.start(dispatch)
        elif dispatch.is_emailed:
            fanout.start(dispatch)  # queued once the transaction commits
    return dispatch


def recall(dispatch: Dispatch, user, reason: str) -> int:
    """Recall an issued dispatch: stop what is still queued and notify every recipient already sent it.

    Return the number of recall notices queued.
    """
    dispatch.ensure_allowed(user, "recall")  # a refusal is audited outside the transaction that would undo it
    with transaction.atomic():
        dispatch.recall(user, reason)
        return recall_notices.queue_notices(dispatch)


def issue_scheduled(dispatch_id: int, now: datetime.datetime | None = None) -> bool:
    """Issue a scheduled dispatch whose time has come, as the clerk who scheduled it; return whether it was issued.

    The row is locked and the schedule checked again first: a dispatch unscheduled, rescheduled, returned to draft
    or already issued meanwhile is left alone. A refused issue (the clerk lost the right, nobody to send to) drops
    the schedule, so the dispatch waits, approved, for a person to look at it.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            dispatch = Dispatch.objects.select_for_update().get(pk=dispatch_id)
            if not dispatch.is_due(now):
                return False
            issue(dispatch, dispatch.scheduled_by)
            return True
    except WorkflowError as refused:
        log.warning("Scheduled dispatch %s was not issued: %s", dispatch_id, refused)
        with transaction.atomic():
            dropped = Dispatch.objects.filter(pk=dispatch_id, status=DispatchStatus.SCHEDULED).update(
                status=DispatchStatus.APPROVED, scheduled_for=None, updated_at=timezone.now()
            )
            if dropped:
                AuditEvent.objects.record(None, "refused:scheduled_issue", Dispatch.objects.get(pk=dispatch_id),
                                          {"reason": str(refused)})  # fmt: skip
        return False
