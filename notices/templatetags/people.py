"""Template filters that name people: `{{ user|full_name }}`."""

from __future__ import annotations

from django import template

from notices import people

register = template.Library()


@register.filter
def full_name(user) -> str:
    """Return the user's full name in Vietnamese order, else their user name."""
    return people.full_name(user)
