from __future__ import annotations

from notices.models.appendix import Appendix
from notices.models.delivery import Delivery, DeliveryStatus
from notices.models.dispatch import Dispatch, DispatchStatus, RegisterCounter, Secrecy, Urgency
from notices.models.events import DeliveryEvent
from notices.models.issuers import DraftingUnit, Issuer, Signer

__all__ = [
    "Appendix",
    "Delivery",
    "DeliveryEvent",
    "DeliveryStatus",
    "Dispatch",
    "DispatchStatus",
    "DraftingUnit",
    "Issuer",
    "RegisterCounter",
    "Secrecy",
    "Signer",
    "Urgency",
]
