"""How people are named on screen (notices/people.py): the full name in Vietnamese order, else the user name."""

from __future__ import annotations

from django.contrib.auth.models import User

from notices.people import full_name


def test_the_family_and_middle_names_come_before_the_given_name():
    assert full_name(User(username="pheduyet", last_name="Trần Văn", first_name="Duyệt")) == "Trần Văn Duyệt"
    assert full_name(User(username="vanthu", first_name="Văn")) == "Văn"


def test_a_user_without_a_name_is_shown_by_their_user_name_and_no_user_by_nothing():
    assert full_name(User(username="kiemtoan")) == "kiemtoan"
    assert full_name(None) == ""
