"""The copies of a personalised dispatch (notices/models/copies.py): one per organisation, its file stored once."""

from __future__ import annotations

import pytest

from notices.models import Dispatch, DispatchCopy
from tests.notices.test_copies import personalised


@pytest.mark.django_db
def test_a_copy_stored_twice_for_one_organisation_keeps_the_first_and_removes_the_second_file(draft, settings):
    dispatch = personalised(draft, 1)
    Dispatch.objects.filter(pk=dispatch.pk).update(year=2026)
    dispatch.refresh_from_db()
    organization = dispatch.target_organizations().get()
    first = DispatchCopy.objects.store(dispatch, organization, "a", b"%PDF-first", "code-1", "AAAA-BBBB-CD")
    second = DispatchCopy.objects.store(dispatch, organization, "a", b"%PDF-second", "code-2", "AAAA-BBBB-CE")

    assert first is not None and second is None
    assert list(DispatchCopy.objects.values_list("verification_code", flat=True)) == ["code-1"]
    stored = list((settings.MEDIA_ROOT / "copies" / "2026").iterdir())
    assert [path.read_bytes() for path in stored] == [b"%PDF-first"]
