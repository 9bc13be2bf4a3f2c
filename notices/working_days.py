"""Vietnamese working days: Monday to Friday, less the public holidays and the agency's own days off.

Vietnam's public holidays (Tết, Hùng Kings, 30/4, 1/5, National Day and their substitute days) come from the
`holidays` package; the agency adds its own days off and make-up working days (`DayOff`, in the admin).
"""

from __future__ import annotations

import datetime
import functools
import zoneinfo

import holidays
from django.utils import timezone

from notices.models.calendar import DayKind, DayOff

AGENCY_TIMEZONE = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
MAX_SPAN_DAYS = 3660  # a working-day count never looks further than ten years


@functools.cache
def public_holidays(year: int) -> frozenset[datetime.date]:
    """Return Vietnam's public holidays of one year (computed once per year and process)."""
    return frozenset(holidays.country_holidays("VN", years=year))


class Calendar:
    """The working days of a span of dates, with the agency's days read once from the database."""

    def __init__(self) -> None:
        days = DayOff.objects.values_list("day", "kind")
        self.days_off = {day for day, kind in days if kind == DayKind.DAY_OFF}
        self.working = {day for day, kind in days if kind == DayKind.WORKING_DAY}

    def is_working_day(self, day: datetime.date) -> bool:
        """Return whether the agency works on `day`."""
        if day in self.working:
            return True
        if day in self.days_off or day in public_holidays(day.year):
            return False
        return day.weekday() < 5

    def add(self, day: datetime.date, count: int) -> datetime.date:
        """Return the working day `count` working days after `day` (0: `day` itself if it is one, else the next)."""
        current = day
        if count == 0:
            return self.next_from(day)
        for _ in range(MAX_SPAN_DAYS):
            current += datetime.timedelta(days=1)
            if self.is_working_day(current):
                count -= 1
                if count == 0:
                    return current
        raise ValueError("no working day within ten years")

    def next_from(self, day: datetime.date) -> datetime.date:
        """Return `day` if it is a working day, else the first working day after it."""
        return day if self.is_working_day(day) else self.add(day, 1)

    def between(self, start: datetime.date, end: datetime.date) -> int:
        """Return how many working days come after `start`, up to and including `end` (0 when end <= start)."""
        return sum(1 for n in range(1, (end - start).days + 1) if self.is_working_day(start + datetime.timedelta(n)))


def add_working_days(day: datetime.date, count: int) -> datetime.date:
    """Return the date `count` working days after `day`."""
    return Calendar().add(day, count)


def is_working_day(day: datetime.date) -> bool:
    """Return whether the agency works on `day`."""
    return Calendar().is_working_day(day)


def today() -> datetime.date:
    """Return today's date in Hà Nội."""
    return timezone.now().astimezone(AGENCY_TIMEZONE).date()


def next_working_morning(hour: int = 7) -> datetime.datetime:
    """Return `hour`:00 of the next working day in Hà Nội (the suggested time of a scheduled issue)."""
    day = add_working_days(today(), 1)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=AGENCY_TIMEZONE)
