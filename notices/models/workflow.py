"""The dispatch workflow: the one table of transitions over its statuses (`choices.py`), and what is frozen once issued.

draft → submitted → approved (→ scheduled) → issued → sending → sent / partly failed; submitted, approved or
scheduled → draft (returned with a comment, the schedule dropped); issued, sending, sent or partly failed → recalled. `TRANSITIONS` says, for each action, the
statuses it starts from, the status it leads to, the permission it needs, its label and whether it asks for a
reason or a confirmation; the model methods, the admin buttons and the permission checks all read it. Each
transition moves the status with a conditional UPDATE (so two clicks cannot both win) and writes an audit event in
the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from notices.models.audit import AuditEvent
from notices.models.choices import DispatchStatus

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


S = DispatchStatus
# Statuses of a dispatch that has been numbered and published: its content is frozen.
RECALLABLE_STATUSES = (S.ISSUED, S.SENDING, S.SENT, S.PARTLY_FAILED)
FROZEN_STATUSES = (*RECALLABLE_STATUSES, S.RECALLED)
# What an issued dispatch may never change (the register, the document, the recipients).
FROZEN_FIELDS = (
    "issuer_id", "drafting_unit_id", "signer_id", "subject", "addressees", "body", "personalised", "urgency",
    "secrecy", "extra_distribution", "series", "year", "number", "issued_at", "pdf", "pdf_sha256",
)  # fmt: skip
# What a replacement draft starts from (a personalised dispatch's replacement is personalised: it needs its own
# merge data file, which `merge_refusal` asks for before it can be submitted).
CONTENT_FIELDS = (
    "issuer", "drafting_unit", "signer", "subject", "addressees", "body", "personalised", "urgency", "secrecy",
    "extra_distribution",
)  # fmt: skip


@dataclass(frozen=True)
class Transition:
    """One workflow action: from which statuses, to which status (None: unchanged), needing which permission."""

    name: str
    sources: tuple[DispatchStatus, ...]
    target: DispatchStatus | None
    permission: str
    label: Promise
    asks_reason: bool = False
    confirms: bool = False  # a page says what the action will do before it runs
    asks_time: bool = False  # a page asks when (the scheduled issue)
    secret_label: Promise | None = None  # the label for a secret dispatch (never emailed), when it differs

    def label_for(self, dispatch) -> Promise:
        """Return the label of this action for `dispatch` (a secret dispatch is never "sent")."""
        return self.secret_label if not dispatch.is_emailed and self.secret_label else self.label


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("submit", (S.DRAFT,), S.SUBMITTED, "submit_dispatch", _("Submit for approval")),
        Transition("approve", (S.SUBMITTED,), S.APPROVED, "approve_dispatch", _("Approve")),
        Transition("return", (S.SUBMITTED, S.APPROVED, S.SCHEDULED), S.DRAFT, "approve_dispatch", _("Return to drafter"),
                   asks_reason=True),
        Transition("schedule", (S.APPROVED, S.SCHEDULED), S.SCHEDULED, "schedule_dispatch", _("Schedule the issue"),
                   asks_time=True),
        Transition("unschedule", (S.SCHEDULED,), S.APPROVED, "schedule_dispatch", _("Cancel the schedule")),
        Transition("issue", (S.APPROVED, S.SCHEDULED), S.ISSUED, "issue_dispatch", _("Issue and send"), confirms=True,
                   secret_label=_("Issue (not emailed)")),
        Transition("recall", RECALLABLE_STATUSES, S.RECALLED, "recall_dispatch", _("Recall"), asks_reason=True),
        Transition("replace", FROZEN_STATUSES, None, "issue_dispatch", _("Issue a replacement")),
    )
}  # fmt: skip


# (codename, name) of the workflow permissions on the dispatch model (`Dispatch.Meta.permissions`).
WORKFLOW_PERMISSIONS: list[tuple[str, str | StrPromise]] = [
    ("submit_dispatch", "Can submit a dispatch for approval"),
    ("approve_dispatch", "Can approve or return a dispatch"),
    ("issue_dispatch", "Can issue and send an approved dispatch"),
    ("recall_dispatch", "Can recall an issued dispatch"),
    ("schedule_dispatch", "Can schedule, reschedule or unschedule the issue of an approved dispatch"),
    ("send_reminders", "Can remind the recipients who have not acknowledged a dispatch"),
    ("edit_any_draft", "Can edit any draft, not only their own"),
    ("export_records", "Can export the register, the send history and the audit trail"),
]
NO_LONGER_APPLIES = _("This dispatch is now “%(status)s”: the action no longer applies.")
WRONG_STATUS = {
    "issue": _("Only an approved dispatch can be issued."),
    "replace": _("Only an issued dispatch can be replaced."),
}


class WorkflowError(Exception):
    """A workflow action that the dispatch's state or the user's role does not allow (shown to the user)."""


def has_role_permission(user, codename: str) -> bool:
    """Return True when `user` is active and holds notices.<codename> (superusers hold every permission)."""
    return bool(user and user.is_active and user.has_perm(f"notices.{codename}"))


class DispatchWorkflow(models.Model):
    """Workflow fields and transitions of a dispatch (an abstract base of `Dispatch`)."""

    status = models.CharField(
        _("status"), max_length=20, choices=DispatchStatus.choices, default=DispatchStatus.DRAFT, db_index=True
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("approved by")
    )
    return_comment = models.TextField(_("comment when returned"), blank=True)
    recalled_at = models.DateTimeField(_("recalled at"), null=True, blank=True)
    recalled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("recalled by")
    )
    recall_reason = models.TextField(_("reason for recall"), blank=True)

    if TYPE_CHECKING:  # what `Dispatch` provides (or the admin sets), declared for the type checker
        objects: Any
        created_by_id: int | None
        groups: Any
        organizations: Any
        replacements: Any
        pdf: Any
        _actor: Any

    class Meta:
        abstract = True

    # --- Immutability (save and delete refuse an issued dispatch) ------------------------------
    def save(self, *args, **kwargs) -> None:
        changed = self.frozen_changes()
        if changed:
            self.refuse(
                getattr(self, "_actor", None),
                "edit",
                _("An issued dispatch cannot be changed (tried: %(fields)s).") % {"fields": ", ".join(changed)},
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status != DispatchStatus.DRAFT:
            self.refuse(getattr(self, "_actor", None), "delete", _("Only a draft can be deleted."))
        return super().delete(*args, **kwargs)

    # --- Guards ----------------------------------------------------------------------------------
    @property
    def is_frozen(self) -> bool:
        return self.status in FROZEN_STATUSES

    def can_edit(self, user) -> bool:
        """Return True when `user` may change this dispatch's content (its own draft, or any draft for admins)."""
        if self.pk and self.status != DispatchStatus.DRAFT:
            return False
        if not has_role_permission(user, "change_dispatch"):
            return False
        return not self.pk or self.created_by_id == user.pk or has_role_permission(user, "edit_any_draft")

    def refusal(self, user, action: str):
        """Return why `user` may not perform `action` on this dispatch now (a message), or None when they may."""
        transition = TRANSITIONS[action]
        if not has_role_permission(user, transition.permission):
            return _("Your role does not allow this action.")
        if self.status not in transition.sources:
            return WRONG_STATUS.get(action, NO_LONGER_APPLIES) % {"status": self.get_status_display()}
        drafted_by_user = self.created_by_id == user.pk
        if action == "submit" and not drafted_by_user and not has_role_permission(user, "edit_any_draft"):
            return _("Only the drafter can submit this dispatch.")
        if action == "approve" and drafted_by_user:
            return _("You cannot approve a dispatch you drafted.")
        if action == "return" and drafted_by_user:
            return _("You cannot review a dispatch you drafted.")
        return None

    def recipient_refusal(self, at_issue: bool):
        """Return why the dispatch has nobody to go to (a message), or None (see `Dispatch.recipient_refusal`)."""
        return None

    def merge_refusal(self):
        """Return why the merge data stops a personalised dispatch (see `Dispatch.merge_refusal`), or None."""
        return None

    def available_transitions(self, user) -> list[Transition]:
        """Return the actions `user` may perform on this dispatch now, in the table's order.

        A dispatch with no recipient still shows "submit" and "issue": using them says what is missing.
        """
        return [t for name, t in TRANSITIONS.items() if self.refusal(user, name) is None]

    def refuse(self, user, action: str, message) -> None:
        """Audit a refused action and raise WorkflowError with `message`."""
        AuditEvent.objects.record(user, f"refused:{action}", self, {"status": self.status, "reason": str(message)})
        raise WorkflowError(message)

    def ensure_allowed(self, user, action: str) -> None:
        """Raise WorkflowError (audited) unless `user` may perform `action` on this dispatch now."""
        message = self.refusal(user, action)
        if message is None and action in ("submit", "issue"):
            message = self.recipient_refusal(at_issue=action == "issue")
        if message is None and action in ("submit", "approve", "issue"):
            message = self.merge_refusal()
        if message is not None:
            self.refuse(user, action, message)

    def transition(self, user, action: str, details: dict | None = None, **changes) -> None:
        """Check `action`, then move the status as the table says with a conditional update, and audit it."""
        self.ensure_allowed(user, action)
        self.move(user, action, TRANSITIONS[action], details, **changes)

    def move(self, user, action: str, transition: Transition, details: dict | None = None, **changes) -> None:
        """Move the status with a conditional update, refresh this instance and audit the transition."""
        with transaction.atomic():
            moved = (
                type(self)
                .objects.filter(pk=self.pk, status__in=transition.sources)
                .update(status=transition.target, updated_at=timezone.now(), **changes)
            )
            if moved != 1:
                self.refresh_from_db(fields=["status"])
                raise WorkflowError(NO_LONGER_APPLIES % {"status": self.get_status_display()})
            previous = self.status
            self.refresh_from_db()
            AuditEvent.objects.record(
                user, action, self, {"from": previous, "to": transition.target, **(details or {})}
            )

    # --- Transitions -----------------------------------------------------------------------------
    def submit(self, user) -> None:
        """Send a draft for approval (its drafter, or an administrator); it must have somebody to go to."""
        self.transition(user, "submit", submitted_at=timezone.now())

    def approve(self, user) -> None:
        """Approve a submitted dispatch; nobody approves a dispatch they drafted."""
        self.transition(user, "approve", approved_at=timezone.now(), approved_by=user)

    def return_to_draft(self, user, comment: str) -> None:
        """Send a submitted (or approved, not yet issued) dispatch back to its drafter with a comment."""
        self.ensure_allowed(user, "return")
        if not comment.strip():
            raise WorkflowError(_("Say what must change: a comment is required to return a dispatch."))
        self.move(
            user,
            "return",
            TRANSITIONS["return"],
            {"comment": comment.strip()},
            return_comment=comment.strip(),
            approved_at=None,
            approved_by=None,
            scheduled_for=None,  # a schedule never survives a return to draft
            scheduled_by=None,
        )

    def recall(self, user, reason: str) -> None:
        """Mark an issued dispatch recalled (`notices.issuing.recall` also notifies its recipients)."""
        self.ensure_allowed(user, "recall")
        if not reason.strip():
            raise WorkflowError(_("A reason is required to recall a dispatch."))
        self.move(
            user,
            "recall",
            TRANSITIONS["recall"],
            {"reason": reason.strip()},
            recalled_at=timezone.now(),
            recalled_by=user,
            recall_reason=reason.strip(),
            scheduled_for=None,
        )

    def start_replacement(self, user):
        """Create and return a new draft, owned by the same drafter, that replaces this dispatch once issued."""
        self.ensure_allowed(user, "replace")
        with transaction.atomic():
            new = type(self).objects.create(
                **{name: getattr(self, name) for name in CONTENT_FIELDS},
                replaces=self,
                created_by_id=self.created_by_id or user.pk,
            )
            new.groups.set(self.groups.all())
            new.organizations.set(self.organizations.all())
            AuditEvent.objects.record(user, "start_replacement", self, {"replacement_id": new.pk})
            AuditEvent.objects.record(user, "create", new, {"replaces": self.pk})
        return new

    @property
    def replaced_by(self):
        """Return the issued dispatch that replaces this one, or None."""
        return self.replacements.filter(status__in=FROZEN_STATUSES).order_by("issued_at").first()

    # --- Immutability ----------------------------------------------------------------------------
    def frozen_changes(self) -> list[str]:
        """Return the frozen fields this unsaved instance changes compared with the stored row."""
        if self._state.adding or not self.pk:
            return []
        stored = type(self).objects.filter(pk=self.pk).values("status", *FROZEN_FIELDS).first()
        if stored is None or stored["status"] not in FROZEN_STATUSES:
            return []
        current = {name: getattr(self, name) for name in FROZEN_FIELDS}
        current["pdf"] = self.pdf.name
        return [name for name in FROZEN_FIELDS if (stored[name] or None) != (current[name] or None)]
