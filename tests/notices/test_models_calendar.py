"""The agency's own days off and make-up working days."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError

from notices.models import DayKind, DayOff

pytestmark = pytest.mark.django_db


def test_a_day_is_listed_once_with_its_kind():
    day = DayOff.objects.create(day=datetime.date(2027, 2, 3), kind=DayKind.DAY_OFF)
    assert str(day) == "03/02/2027 – Day off"
    with pytest.raises(IntegrityError):
        DayOff.objects.create(day=datetime.date(2027, 2, 3), kind=DayKind.WORKING_DAY)
