"""The gapless outgoing register's series and their counters (per issuer and calendar year)."""

from __future__ import annotations

from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _


class Series(models.TextChoices):
    REGULAR = "regular", _("Regular")
    SECRET = "secret", _("Secret")


class RegisterCounter(models.Model):
    """The last number given in one series of the outgoing register (per issuer and calendar year)."""

    issuer = models.ForeignKey("notices.Issuer", models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    series = models.CharField(max_length=10, choices=Series.choices)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "year", "series"], name="register_counter_unique")]

    def __str__(self) -> str:
        return f"{self.year} {self.series}: {self.last_number}"

    @classmethod
    def take_next(cls, issuer_id: int, year: int, series: str) -> int:
        """Return the next number of the series, holding its row lock until the transaction ends.

        The UPDATE locks the counter row, so a second clerk issuing at the same moment waits for
        this transaction: if it commits they get the following number, if it rolls back they get
        this one. Numbers are therefore never skipped and never repeated.
        """
        cls.objects.get_or_create(issuer_id=issuer_id, year=year, series=series)
        counter = cls.objects.filter(issuer_id=issuer_id, year=year, series=series)
        counter.update(last_number=F("last_number") + 1)
        return counter.values_list("last_number", flat=True).get()

    @classmethod
    def peek_next(cls, issuer_id: int, year: int, series: str) -> int:
        """Return the number the series would give now (another clerk may take it first)."""
        last = cls.objects.filter(issuer_id=issuer_id, year=year, series=series).values_list("last_number", flat=True)
        return (last.first() or 0) + 1
