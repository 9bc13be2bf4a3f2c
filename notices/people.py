"""How people are named on screen: the full name in Vietnamese order, never a bare user name when a name is known."""

from __future__ import annotations


def full_name(user) -> str:
    """Return "Nguyễn Văn Minh" for a user whose last name is "Nguyễn Văn" and first name "Minh".

    Django's `first_name` holds the given name and `last_name` the family and middle names, so the
    Vietnamese order is last name, then first name. A user without a name is shown by their user name;
    no user at all by "".
    """
    if user is None:
        return ""
    name = f"{user.last_name} {user.first_name}".strip()
    return name or user.get_username()
