"""Writing many rows at once: ids from the table's sequence, rows copied in with them, constraints still checked."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from recipients.bulk import chunks, insert_emails, insert_organizations, reserve_ids
from recipients.models import Organization, OrganizationEmail

pytestmark = pytest.mark.django_db


def test_chunks_cover_every_item_once_in_order():
    assert list(chunks(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunks([], 3)) == []


def test_reserved_ids_are_fresh_and_never_handed_out_again():
    first, second = reserve_ids(Organization, 3), reserve_ids(Organization, 2)
    assert len(set(first + second)) == 5
    assert min(second) > max(first)


def test_inserted_organisations_get_the_returned_ids_and_their_addresses():
    ids = insert_organizations([{"name": "UBND phường Kim Liên", "kind": "committee", "bhxh_code": "KL001"},
                                {"name": "Công an phường Kim Liên", "kind": "police", "bhxh_code": "KL002"}])  # fmt: skip
    insert_emails([(ids[0], "ubnd@kimlien.example.vn", True), (ids[1], "ca@kimlien.example.vn", True)])
    names = dict(Organization.objects.filter(pk__in=ids).values_list("pk", "name"))
    assert names == {ids[0]: "UBND phường Kim Liên", ids[1]: "Công an phường Kim Liên"}
    assert OrganizationEmail.objects.get(address="ca@kimlien.example.vn").organization_id == ids[1]
    assert Organization.objects.get(pk=ids[0]).level == "city"  # the import's default level


def test_the_constraints_are_checked_as_for_any_insert():
    (pk,) = insert_organizations([{"name": "UBND phường Kim Liên", "kind": "committee"}])
    with pytest.raises(IntegrityError):
        insert_emails([(pk, "ubnd@kimlien.example.vn", True), (pk, "vanthu@kimlien.example.vn", True)])  # two primaries
