"""The operator's sending controls on a dispatch: pause, resume, cancel, resend, progress, and when sending ends.

A mixin of `Dispatch`: it uses the dispatch's choices from `notices.models.choices`, so it needs nothing from the
dispatch module (which imports it). The send tasks it queues are named, not imported
(`notices.models.delivery.enqueue`), and only once the transaction commits.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notices import signals  # a leaf module: Signal objects only
from notices.models.choices import DispatchStatus, Urgency
from notices.models.delivery import (
    QUEUE,
    STOPPABLE,
    URGENT_QUEUE,
    WAITING,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    enqueue,
)  # fmt: skip
from notices.models.events import DeliveryEvent
from notices.models.workflow import WorkflowError
from recipients.models import Suppression

S = DeliveryStatus
NOT_DELIVERED = [S.FAILED, S.CANCELLED]


class SendingControls:
    """Sending controls and the end of sending, as methods of `Dispatch`."""

    if TYPE_CHECKING:  # what `Dispatch` provides (this floor cannot import it), declared for the type checker
        objects: Any
        pk: Any
        status: str
        urgency: str
        sending_paused_at: datetime.datetime | None
        pdf: Any
        deliveries: Any

        @property
        def is_emailed(self) -> bool: ...
        def refresh_from_db(
            self, using: str | None = None, fields: Iterable[str] | None = None, from_queryset: Any = None
        ) -> None: ...
        def get_status_display(self) -> str: ...

    @property
    def send_queue(self) -> str:
        """Return the queue of the dispatch's send tasks: HỎA TỐC and THƯỢNG KHẨN go first."""
        urgent = self.urgency in (Urgency.EXPRESS, Urgency.VERY_URGENT)
        return URGENT_QUEUE if urgent else QUEUE

    def pause(self) -> bool:
        """Stop claiming the dispatch's deliveries; messages already handed to the provider stay sent."""
        paused = type(self).objects.filter(pk=self.pk, status=DispatchStatus.SENDING, sending_paused_at__isnull=True)
        return bool(paused.update(sending_paused_at=timezone.now()))

    def refuse_unless_sending(self, message) -> None:
        """Raise WorkflowError with `message` unless the dispatch is sending or partly failed (never a recalled one)."""
        status = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
        if status not in (DispatchStatus.SENDING, DispatchStatus.PARTLY_FAILED):
            raise WorkflowError(message)

    def resume(self) -> int:
        """Lift a pause and queue the waiting deliveries again; return how many."""
        self.refuse_unless_sending(_("Only a dispatch that is being sent can be resumed."))
        resumed = type(self).objects.filter(pk=self.pk, sending_paused_at__isnull=False).update(sending_paused_at=None)
        return self.requeue_waiting() if resumed else 0

    def requeue_waiting(self) -> int:
        """Queue send tasks for every queued delivery of the dispatch once this commits (duplicates are harmless)."""
        ids = list(self.deliveries.filter(status=S.QUEUED).order_by("pk").values_list("pk", flat=True))
        self.deliveries.filter(pk__in=ids).update(updated_at=timezone.now())
        queue = self.send_queue
        transaction.on_commit(lambda: enqueue(ids, queue))
        return len(ids)

    def cancel(self) -> int:
        """Cancel every delivery not yet handed to the provider; return how many were cancelled."""
        ids = self.deliveries.filter(STOPPABLE).move_all(S.CANCELLED, "cancelled by the operator", next_attempt_at=None)
        type(self).objects.filter(pk=self.pk).update(sending_paused_at=None)
        self.finish_sending_if_done()
        return len(ids)

    @property
    def can_resend(self) -> bool:
        """Return whether some delivery did not arrive and may be sent again (never for a recalled dispatch)."""
        if self.status not in (DispatchStatus.SENDING, DispatchStatus.PARTLY_FAILED):
            return False
        return self.resendable().exists()

    def resendable(self):
        """Return the deliveries that failed or were cancelled, except to addresses now suppressed."""
        suppressed = Suppression.objects.active().values("address")
        return self.deliveries.filter(status__in=NOT_DELIVERED).exclude(address__in=suppressed)

    def resend_undelivered(self) -> int:
        """Queue again the deliveries that failed or were cancelled (not suppressed addresses); return how many."""
        self.refuse_unless_sending(_("Only a dispatch that is being sent or partly failed can be sent again."))
        with transaction.atomic():
            ids = self.resendable().move_all(S.QUEUED, "resent by the operator", attempts=0, last_error="")
            if ids:
                type(self).objects.filter(pk=self.pk, status=DispatchStatus.PARTLY_FAILED).update(
                    status=DispatchStatus.SENDING, sending_paused_at=None, updated_at=timezone.now()
                )
                queue = self.send_queue
                transaction.on_commit(lambda: enqueue(ids, queue))
        return len(ids)

    def queue_test_copy(self, address: str) -> int:
        """Write a test copy to `address` and queue it once this commits; return its delivery id.

        A test copy is a delivery of its own kind: sent by the same loop, not counted, not in the send history.
        """
        if not self.is_emailed or not self.pdf:
            raise WorkflowError(_("A test copy needs an issued dispatch that is not secret."))
        with transaction.atomic():
            copy = Delivery.every_kind.create(dispatch_id=self.pk, kind=DeliveryKind.TEST_COPY, address=address,
                                              organization_name="BẢN THỬ (TEST)")  # fmt: skip
            DeliveryEvent.objects.create(delivery=copy, type=S.QUEUED)
            queue = self.send_queue
            transaction.on_commit(lambda: enqueue([copy.pk], queue))
        return copy.pk

    def progress(self) -> dict:
        """Return the dispatch's delivery counts by status, for the live progress panel."""
        self.refresh_from_db(fields=["status", "sending_paused_at"])
        counts = dict(self.deliveries.values_list("status").annotate(n=Count("pk")).order_by())
        return {
            "status": str(self.get_status_display()),
            "code": self.status,
            "paused": bool(self.sending_paused_at),
            "can_resend": self.can_resend,
            "total": sum(counts.values()),
            "counts": [{"status": str(label), "code": code, "n": counts.get(code, 0)} for code, label in S.choices],
        }

    def finish_sending_if_done(self) -> bool:
        """Mark the dispatch sent (or partly failed) once every delivery is written and none waits any more.

        "Partly failed" means some delivery failed, or was cancelled after a failed attempt; a cancel of
        deliveries that never failed leaves the dispatch "sent".
        """
        dispatches = type(self).objects.filter(pk=self.pk)
        if not dispatches.filter(fanned_out_at__isnull=False).exists() or self.deliveries.filter(WAITING).exists():
            return False
        failed = self.deliveries.filter(Q(status=S.FAILED) | Q(status=S.CANCELLED) & ~Q(last_error=""))
        final = DispatchStatus.PARTLY_FAILED if failed.exists() else DispatchStatus.SENT
        finished = dispatches.filter(status=DispatchStatus.SENDING).update(status=final, updated_at=timezone.now())
        if finished:
            self.refresh_from_db(fields=["status", "updated_at"])
            signals.sending_finished.send(sender=type(self), dispatch=self)
        return bool(finished)
