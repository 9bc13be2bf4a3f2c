"""Each organisation's own text of a personalised dispatch: subject, "Kính gửi" and body filled from its record."""

from __future__ import annotations

from dataclasses import dataclass

from notices import templating
from notices.models import MergeRecord
from notices.models.dispatch import CONTROL_CHARACTERS
from notices.sanitizing import sanitize_body


@dataclass(frozen=True)
class PersonalText:
    subject: str  # the V/v line for this organisation (plain text, no control characters)
    addressee_lines: list[str]  # the "Kính gửi" lines for this organisation
    body_html: str  # sanitised body HTML (notices.sanitizing.sanitize_body) with the fields filled in


class MergeDataMissing(LookupError):
    """The personalised dispatch has no merge record for this organisation."""


def data_of(record: MergeRecord, organisation) -> dict:
    """Return the template data of one organisation: its fields, its table and its name."""
    return {"ten_don_vi": organisation.name, **record.fields, "table": record.table}


def text_for(dispatch, organisation) -> PersonalText:
    """Return the subject, addressees and body `organisation` receives (the dispatch's own if not personalised)."""
    return texts_for(dispatch, [organisation])[organisation.pk]


def texts_for(dispatch, organisations: list) -> dict[int, PersonalText]:
    """Return each organisation's text by its id, reading their merge records in one query."""
    if not dispatch.personalised:
        own = PersonalText(dispatch.subject, dispatch.addressee_lines(), dispatch.body)
        return {organisation.pk: own for organisation in organisations}
    ids = [organisation.pk for organisation in organisations]
    records = {r.organization_id: r for r in MergeRecord.objects.filter(dispatch=dispatch, organization_id__in=ids)}
    missing = [pk for pk in ids if pk not in records]
    if missing:
        raise MergeDataMissing(missing[0])
    return {o.pk: text_for_record(dispatch, records[o.pk], o) for o in organisations}


def addressee_count(dispatch) -> int:
    """Return how many "Kính gửi" lines each copy has: one per line typed, else the organisation's name alone."""
    return len([line for line in dispatch.addressees.splitlines() if line.strip()]) or 1


def text_for_record(dispatch, record: MergeRecord, organisation) -> PersonalText:
    """Return the personal text from a record already at hand (raise templating.TemplateRefused)."""
    data = data_of(record, organisation)
    subject = templating.render(templating.compile_template(dispatch.subject, html_body=False), data)
    typed = [line.strip() for line in dispatch.addressees.splitlines() if line.strip()]
    lines = [templating.render(templating.compile_template(line, html_body=False), data) for line in typed]
    body = templating.render(templating.compile_template(dispatch.body, html_body=True), data)
    return PersonalText(
        subject=" ".join(CONTROL_CHARACTERS.sub(" ", subject).split()),
        addressee_lines=[" ".join(CONTROL_CHARACTERS.sub(" ", line).split()) for line in lines] or [organisation.name],
        body_html=sanitize_body(body),
    )
