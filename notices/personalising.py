"""What each organisation's copy of a personalised dispatch says (PLACEHOLDER: the merge branch fills the fields
from the merge data file; until then every copy carries the dispatch's text and its own organisation's name)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PersonalText:
    subject: str
    addressee_lines: list[str]
    body_html: str


def text_for(dispatch, organisation) -> PersonalText:  # placeholder: the merge branch fills fields from the merge file
    return PersonalText(dispatch.subject, [organisation.name], dispatch.body)
