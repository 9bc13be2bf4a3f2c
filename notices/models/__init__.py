from __future__ import annotations

from notices.models.appendix import Appendix
from notices.models.audit import AuditEvent
from notices.models.calendar import DayKind, DayOff
from notices.models.copies import DispatchCopy
from notices.models.dashboard import DispatchCount
from notices.models.delivery import Delivery, DeliveryKind, DeliveryStatus, RecallNotice, RecallStatus, Reminder
from notices.models.dispatch import Dispatch, DispatchStatus, RegisterCounter, Secrecy, Urgency
from notices.models.events import DeliveryEvent
from notices.models.issuers import DraftingUnit, Issuer, Signer
from notices.models.merge import MatchKey, MergeFile, MergeRecord
from notices.models.register import OutgoingRegister, SendRecord

__all__ = [
    "Appendix",
    "AuditEvent",
    "DayKind",
    "DayOff",
    "Delivery",
    "DeliveryEvent",
    "DeliveryKind",
    "DeliveryStatus",
    "Dispatch",
    "DispatchCopy",
    "DispatchCount",
    "DispatchStatus",
    "DraftingUnit",
    "Issuer",
    "MatchKey",
    "MergeFile",
    "MergeRecord",
    "OutgoingRegister",
    "RecallNotice",
    "RecallStatus",
    "RegisterCounter",
    "Reminder",
    "Secrecy",
    "SendRecord",
    "Signer",
    "Urgency",
]
