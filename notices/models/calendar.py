"""The agency's own calendar: days off it adds to Vietnam's public holidays, and make-up working days.

The public holidays come from the `holidays` package (`notices.working_days`); the agency edits these rows in
the admin (e.g. a day off the Prime Minister grants on a bridge day, and the Saturday worked in exchange).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DayKind(models.TextChoices):
    DAY_OFF = "off", _("Day off")
    WORKING_DAY = "work", _("Make-up working day")


class DayOff(models.Model):
    day = models.DateField(_("day"), unique=True)
    kind = models.CharField(_("kind"), max_length=4, choices=DayKind.choices, default=DayKind.DAY_OFF)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("agency day off or make-up working day")
        verbose_name_plural = _("agency days off and make-up working days")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day:%d/%m/%Y} – {self.get_kind_display()}"
