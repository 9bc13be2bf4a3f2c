"""Read-only views of dispatches and deliveries for the records office and auditors (proxy models)."""

from __future__ import annotations

from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from notices.models.delivery import AllDeliveries, Delivery
from notices.models.dispatch import Dispatch


class OutgoingRegister(Dispatch):
    """The outgoing register (sổ đăng ký văn bản đi): every issued dispatch with the Decree's columns."""

    class Meta:
        proxy = True
        verbose_name = _("outgoing register entry")
        verbose_name_plural = _("outgoing register")


class SendRecord(Delivery):
    """The send history auditors search: one row per delivery of every kind (dispatch emails, test copies, recall
    notices), with its timeline."""

    objects: ClassVar[AllDeliveries] = AllDeliveries()

    class Meta:
        proxy = True
        verbose_name = _("send record")
        verbose_name_plural = _("send history")
