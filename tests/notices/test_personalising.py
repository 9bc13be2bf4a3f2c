"""Each organisation's own text of a personalised dispatch (notices/personalising.py): subject, addressees, body."""

from __future__ import annotations

import pytest

from notices.models import MergeRecord
from notices.personalising import text_for
from recipients.models import Organization, OrganizationKind, OrganizationLevel


@pytest.mark.django_db
def test_text_for_fills_the_subject_addressees_and_body_of_one_organisation(draft):
    org = Organization.objects.create(name="Công ty A", kind=OrganizationKind.EMPLOYER, level=OrganizationLevel.CITY)
    draft.personalised = True
    draft.subject = "đôn đốc thu nợ {{ so_tien_no|money }}"
    draft.body = "<p>Số nợ: {{ so_tien_no|money }}, hạn {{ han|date }}.</p>"
    draft.save()
    MergeRecord.objects.create(
        dispatch=draft, organization=org, fields={"so_tien_no": 1500000, "han": "2026-03-05"}, first_row=2
    )
    text = text_for(draft, org)
    assert text.subject == "đôn đốc thu nợ 1.500.000 đồng"
    assert text.addressee_lines == ["Công ty A"]
    assert text.body_html == "<p>Số nợ: 1.500.000 đồng, hạn 05/03/2026.</p>"


@pytest.mark.django_db
def test_text_for_a_dispatch_that_is_not_personalised_is_its_own(draft):
    org = Organization.objects.create(name="Công ty A", kind=OrganizationKind.EMPLOYER, level=OrganizationLevel.CITY)
    text = text_for(draft, org)
    assert (text.subject, text.body_html) == (draft.subject, draft.body)
