"""The dispatch workflow: who may move a dispatch from one state to the next, and what is frozen once issued.

draft → submitted → approved → issued → sending → sent / partly failed; submitted → draft (returned with a
comment); issued, sending, sent or partly failed → recalled. Each transition checks the actor's permission, moves
the status with a conditional UPDATE (so two clicks cannot both win) and writes an audit event in the same
transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notices import audit

# Statuses of a dispatch that has been numbered and published: its content is frozen.
FROZEN_STATUSES = ("issued", "sending", "sent", "partly_failed", "recalled")
RECALLABLE_STATUSES = ("issued", "sending", "sent", "partly_failed")
# What an issued dispatch may never change (the register, the document, the recipients).
FROZEN_FIELDS = (
    "issuer_id", "drafting_unit_id", "signer_id", "subject", "addressees", "body", "urgency", "secrecy",
    "extra_distribution", "series", "year", "number", "issued_at", "pdf", "pdf_sha256",
)  # fmt: skip
CONTENT_FIELDS = (
    "issuer", "drafting_unit", "signer", "subject", "addressees", "body", "urgency", "secrecy", "extra_distribution",
)  # fmt: skip


class WorkflowError(Exception):
    """A workflow action that the dispatch's state or the user's role does not allow (shown to the user)."""


def has_role_permission(user, codename: str) -> bool:
    """Return True when `user` is active and holds notices.<codename> (superusers hold every permission)."""
    return bool(user and user.is_active and user.has_perm(f"notices.{codename}"))


class DispatchWorkflow(models.Model):
    """Workflow fields and transitions of a dispatch (an abstract base of `Dispatch`)."""

    # Workflow (the workflow and audit concern).
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
        if self.status != "draft":
            self.refuse(getattr(self, "_actor", None), "delete", _("Only a draft can be deleted."))
        return super().delete(*args, **kwargs)

    # --- Guards ----------------------------------------------------------------------------------
    @property
    def is_frozen(self) -> bool:
        return self.status in FROZEN_STATUSES

    def can_edit(self, user) -> bool:
        """Return True when `user` may change this dispatch's content (its own draft, or any draft for admins)."""
        if self.pk and self.status != "draft":
            return False
        if not has_role_permission(user, "change_dispatch"):
            return False
        return not self.pk or self.created_by_id == user.pk or has_role_permission(user, "edit_any_draft")

    def refuse(self, user, action: str, message) -> None:
        """Audit a refused action and raise WorkflowError with `message`."""
        audit.record(user, f"refused:{action}", self, {"status": self.status, "reason": str(message)})
        raise WorkflowError(message)

    def require(self, user, codename: str, action: str) -> None:
        if not has_role_permission(user, codename):
            self.refuse(user, action, _("Your role does not allow this action."))

    def move(self, user, action: str, from_statuses, to_status: str, details: dict | None = None, **changes) -> None:
        """Move the status with a conditional update, refresh this instance and audit the transition."""
        with transaction.atomic():
            moved = (
                type(self)
                .objects.filter(pk=self.pk, status__in=from_statuses)
                .update(status=to_status, updated_at=timezone.now(), **changes)
            )
            if moved != 1:
                self.refresh_from_db(fields=["status"])
                raise WorkflowError(
                    _("This dispatch is now “%(status)s”: the action no longer applies.")
                    % {"status": self.get_status_display()}
                )
            previous = self.status
            self.refresh_from_db()
            audit.record(user, action, self, {"from": previous, "to": to_status, **(details or {})})

    # --- Transitions -----------------------------------------------------------------------------
    def submit(self, user) -> None:
        """Send a draft for approval (its drafter, or an administrator)."""
        self.require(user, "submit_dispatch", "submit")
        if self.created_by_id != user.pk and not has_role_permission(user, "edit_any_draft"):
            self.refuse(user, "submit", _("Only the drafter can submit this dispatch."))
        self.move(user, "submit", ["draft"], "submitted", submitted_at=timezone.now())

    def approve(self, user) -> None:
        """Approve a submitted dispatch; nobody approves a dispatch they drafted."""
        self.require(user, "approve_dispatch", "approve")
        if self.created_by_id == user.pk:
            self.refuse(user, "approve", _("You cannot approve a dispatch you drafted."))
        self.move(user, "approve", ["submitted"], "approved", approved_at=timezone.now(), approved_by=user)

    def return_to_draft(self, user, comment: str) -> None:
        """Send a submitted (or approved, not yet issued) dispatch back to its drafter with a comment."""
        self.require(user, "approve_dispatch", "return")
        if self.created_by_id == user.pk:
            self.refuse(user, "return", _("You cannot review a dispatch you drafted."))
        if not comment.strip():
            raise WorkflowError(_("Say what must change: a comment is required to return a dispatch."))
        self.move(
            user,
            "return",
            ["submitted", "approved"],
            "draft",
            {"comment": comment.strip()},
            return_comment=comment.strip(),
            approved_at=None,
            approved_by=None,
        )

    def check_can_issue(self, user) -> None:
        """Raise WorkflowError (audited) unless `user` may issue and the dispatch is approved."""
        self.require(user, "issue_dispatch", "issue")
        if self.status != "approved":
            self.refuse(user, "issue", _("Only an approved dispatch can be issued."))

    def recall(self, user, reason: str) -> int:
        """Recall an issued dispatch: stop what is still queued and notify every recipient already sent it.

        Return the number of recall notices queued.
        """
        from notices import recall

        self.require(user, "recall_dispatch", "recall")
        if not reason.strip():
            raise WorkflowError(_("A reason is required to recall a dispatch."))
        with transaction.atomic():
            self.move(
                user,
                "recall",
                RECALLABLE_STATUSES,
                "recalled",
                {"reason": reason.strip()},
                recalled_at=timezone.now(),
                recalled_by=user,
                recall_reason=reason.strip(),
            )
            return recall.queue_notices(self)

    def start_replacement(self, user):
        """Create and return a new draft, owned by the same drafter, that replaces this dispatch once issued."""
        self.require(user, "issue_dispatch", "replace")
        if not self.is_frozen:
            self.refuse(user, "replace", _("Only an issued dispatch can be replaced."))
        with transaction.atomic():
            new = type(self).objects.create(
                **{name: getattr(self, name) for name in CONTENT_FIELDS},
                replaces=self,
                created_by_id=self.created_by_id or user.pk,
            )
            new.groups.set(self.groups.all())
            new.organizations.set(self.organizations.all())
            audit.record(user, "start_replacement", self, {"replacement_id": new.pk})
            audit.record(user, "create", new, {"replaces": self.pk})
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
