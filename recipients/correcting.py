"""The directory side of the correction loop: open an item for a bad address, apply an approved answer.

The sending side (`notices.tracking`) calls `open_item` when a hard bounce or a complaint suppresses an
address; `notices.corrections` calls `apply_answer` when a steward approves, and records the audit event.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from recipients.corrections import CorrectionItem, CorrectionReason, CorrectionRequest, CorrectionStatus
from recipients.models import Organization, OrganizationEmail, Suppression


def open_item(organization_id: int | None, address: str, reason: str, detail: str, since) -> CorrectionItem | None:
    """Open a correction item for the organisation's address unless one is already unresolved; return it."""
    if organization_id is None or reason not in CorrectionReason.values:
        return None
    existing = CorrectionItem.objects.unresolved().filter(organization_id=organization_id, address=address).first()
    if existing:
        return existing
    try:
        with transaction.atomic():  # a savepoint: a concurrent event for the same address is not an error
            return CorrectionItem.objects.create(organization_id=organization_id, address=address, reason=reason,
                                                 detail=detail[:2000], since=since)  # fmt: skip
    except IntegrityError:
        return CorrectionItem.objects.unresolved().filter(organization_id=organization_id, address=address).first()


@dataclass
class Applied:
    """What an approved answer changed in the directory."""

    before: list[str]
    after: list[str]
    primary: str
    lifted: list[str] = field(default_factory=list)


def apply_answer(answer: CorrectionRequest, user) -> Applied:
    """Replace the organisation's addresses by the answered ones, lift their suppressions, resolve the item.

    Raises ValueError when the answer is not waiting for a decision (decided already, or never answered).
    """
    with transaction.atomic():
        locked = CorrectionRequest.objects.select_for_update().get(pk=answer.pk)
        if not locked.is_pending:
            raise ValueError(_("This answer is not waiting for a decision."))
        organization = Organization.objects.select_for_update().get(pk=locked.item.organization_id)
        applied = replace_addresses(organization, locked.addresses, locked.primary_address)
        applied.lifted = lift(applied.after, user)
        now = timezone.now()
        CorrectionRequest.objects.filter(pk=locked.pk).update(decided_at=now, decided_by=user, approved=True)
        CorrectionItem.objects.filter(pk=locked.item_id).update(
            status=CorrectionStatus.CORRECTED, resolved_at=now, resolved_by=user, corrected_address=applied.primary
        )
    return applied


def replace_addresses(organization: Organization, addresses: list[str], primary: str) -> Applied:
    """Make `addresses` the organisation's receiving addresses, `primary` the primary one."""
    before = sorted(organization.emails.values_list("address", flat=True))
    organization.emails.exclude(address__in=addresses).delete()
    organization.emails.update(primary=False)
    for address in addresses:
        OrganizationEmail.objects.update_or_create(
            organization=organization, address=address, defaults={"primary": address == primary}
        )
    return Applied(before=before, after=sorted(addresses), primary=primary)


def lift(addresses: list[str], user) -> list[str]:
    """Lift the active suppressions of the addresses the organisation confirmed; return those lifted."""
    lifted = []
    for suppression in Suppression.objects.active().filter(address__in=addresses):
        suppression.lift(user, _("Confirmed by the organisation through a correction link."))
        lifted.append(suppression.address)
    return sorted(lifted)


def reject_answer(answer: CorrectionRequest, user) -> bool:
    """Refuse an answer: the directory is unchanged and the item open again; return False if already decided."""
    with transaction.atomic():
        changed = CorrectionRequest.objects.filter(pk=answer.pk, answered_at__isnull=False, decided_at__isnull=True)
        if not changed.update(decided_at=timezone.now(), decided_by=user, approved=False):
            return False
        CorrectionItem.objects.filter(pk=answer.item_id, status=CorrectionStatus.ANSWERED).update(
            status=CorrectionStatus.OPEN
        )
    return True


def other_addresses(item: CorrectionItem) -> list[str]:
    """Return the organisation's addresses a link may be sent to: not the failing one, not suppressed."""
    addresses = item.organization.emails.exclude(address=item.address).values_list("address", flat=True)
    suppressed = set(Suppression.objects.active().filter(address__in=list(addresses)).values_list("address", flat=True))
    return sorted(a for a in addresses if a not in suppressed)
