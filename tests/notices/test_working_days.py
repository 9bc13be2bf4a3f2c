"""Vietnamese working days: weekends, Vietnam's public holidays (Tết from the lunar calendar), the agency's days."""

from __future__ import annotations

import datetime

import pytest

from notices import working_days
from notices.models import DayKind, DayOff
from tests.notices.conftest import at_hanoi_time

D = datetime.date
pytestmark = pytest.mark.django_db


def test_tet_2027_and_its_weekend_are_not_working_days():
    # Tết Đinh Mùi: 4-10 February 2027 (29 Tết to the 5th day), the weekend of 6-7 inside it.
    assert not any(working_days.is_working_day(D(2027, 2, day)) for day in range(4, 11))
    assert working_days.is_working_day(D(2027, 2, 3))
    assert working_days.is_working_day(D(2027, 2, 11))


def test_the_next_working_day_after_the_last_one_before_tet_is_after_tet():
    assert working_days.add_working_days(D(2027, 2, 3), 1) == D(2027, 2, 11)
    assert working_days.add_working_days(D(2027, 2, 3), 3) == D(2027, 2, 15)  # Thu 11, Fri 12, (weekend), Mon 15


def test_a_friday_plus_one_working_day_is_the_monday():
    assert working_days.add_working_days(D(2026, 12, 4), 1) == D(2026, 12, 7)
    assert working_days.add_working_days(D(2026, 12, 5), 0) == D(2026, 12, 7)  # Saturday: the next working day


def test_an_agency_day_off_is_skipped_and_a_make_up_saturday_counts():
    DayOff.objects.create(day=D(2026, 12, 7), kind=DayKind.DAY_OFF, description="Nghỉ bù")
    DayOff.objects.create(day=D(2026, 12, 5), kind=DayKind.WORKING_DAY, description="Làm bù")
    assert working_days.add_working_days(D(2026, 12, 4), 1) == D(2026, 12, 5)
    assert working_days.add_working_days(D(2026, 12, 4), 2) == D(2026, 12, 8)


def test_working_days_between_count_only_working_days_after_the_start():
    assert working_days.Calendar().between(D(2027, 2, 3), D(2027, 2, 12)) == 2
    assert working_days.Calendar().between(D(2027, 2, 12), D(2027, 2, 3)) == 0


def test_the_suggested_schedule_is_seven_in_the_morning_of_the_next_working_day_in_hanoi(monkeypatch):
    at_hanoi_time(monkeypatch, 2027, 2, 3, 16, 45)
    suggested = working_days.next_working_morning()
    assert suggested.isoformat() == "2027-02-11T07:00:00+07:00"
