"""The dispatch's choices (status, urgency, secrecy), in a module of their own so every model module can use them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DispatchStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    SCHEDULED = "scheduled", _("Scheduled")
    ISSUED = "issued", _("Issued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    PARTLY_FAILED = "partly_failed", _("Sent, some failed")
    RECALLED = "recalled", _("Recalled")


class Urgency(models.TextChoices):
    NORMAL = "", _("Normal")
    URGENT = "khan", "KHẨN"
    VERY_URGENT = "thuong_khan", "THƯỢNG KHẨN"
    EXPRESS = "hoa_toc", "HỎA TỐC"


class Secrecy(models.TextChoices):
    NONE = "", _("Not secret")
    CONFIDENTIAL = "mat", "MẬT"
    SECRET = "toi_mat", "TỐI MẬT"
    TOP_SECRET = "tuyet_mat", "TUYỆT MẬT"
