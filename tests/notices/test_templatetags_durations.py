"""The template filters for lengths of time (notices/templatetags/durations.py)."""

from __future__ import annotations

import datetime

from django.template import Context, Template


def test_a_duration_reads_in_whole_minutes_rounded_up():
    template = Template("{% load durations %}{{ cooloff|minutes }}")
    for seconds, shown in [(30, "1"), (60, "1"), (61, "2"), (30 * 60, "30")]:
        assert template.render(Context({"cooloff": datetime.timedelta(seconds=seconds)})) == shown, seconds
