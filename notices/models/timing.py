"""When a dispatch is issued and acknowledged: its scheduled issue, its acknowledgement deadline, its reminders.

An abstract base of `Dispatch`. Scheduling is a workflow transition (`schedule` / `unschedule` in
`workflow.TRANSITIONS`): an approved dispatch becomes "scheduled" with a time, which the clerk may change or drop
until then; the beat task `notices.issue_scheduled` issues it through `issuing.issue` once the time has come.
Returning it to draft (or recalling it) clears the schedule.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notices.models.choices import DispatchStatus, Urgency
from notices.models.workflow import WorkflowError

URGENT = (Urgency.URGENT, Urgency.VERY_URGENT, Urgency.EXPRESS)


class DispatchTiming(models.Model):
    """The schedule, the acknowledgement deadline and the reminder rounds of a dispatch."""

    acknowledge_by = models.DateField(
        _("acknowledge receipt by"),
        null=True,
        blank=True,
        help_text=_("Recipients who have not acknowledged by this day are reminded. Urgent dispatches default to "
                    "the next working day after issue."),
    )  # fmt: skip
    scheduled_for = models.DateTimeField(_("scheduled issue time"), null=True, blank=True, db_index=True)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("scheduled by"),
    )
    reminder_rounds = models.PositiveSmallIntegerField(_("reminder rounds sent"), default=0, editable=False)
    last_reminded_at = models.DateTimeField(_("last reminded at"), null=True, blank=True, editable=False)

    if TYPE_CHECKING:  # what `Dispatch` (through `DispatchWorkflow`) provides
        objects: Any
        status: str
        urgency: str

        def transition(self, user, action: str, details: dict | None = None, **changes) -> None: ...

    class Meta:
        abstract = True

    @property
    def is_urgent(self) -> bool:
        return self.urgency in URGENT

    def schedule(self, user, when: datetime.datetime) -> None:
        """Schedule (or reschedule) the issue of an approved dispatch at `when`, which must be in the future."""
        if timezone.is_naive(when) or when <= timezone.now():
            raise WorkflowError(_("Choose a time in the future for the scheduled issue."))
        self.transition(user, "schedule", {"at": when.isoformat()}, scheduled_for=when, scheduled_by=user)

    def unschedule(self, user) -> None:
        """Drop the schedule: the dispatch is approved again, to be issued by hand or scheduled anew."""
        self.transition(user, "unschedule", scheduled_for=None, scheduled_by=None)

    def is_due(self, now: datetime.datetime) -> bool:
        """Return whether the dispatch is scheduled and its time has come."""
        return self.status == DispatchStatus.SCHEDULED and self.scheduled_for is not None and self.scheduled_for <= now


def due_for_issue(queryset, now: datetime.datetime):
    """Return the scheduled dispatches of `queryset` whose time has come, oldest first."""
    return queryset.filter(status=DispatchStatus.SCHEDULED, scheduled_for__lte=now).order_by("scheduled_for")
