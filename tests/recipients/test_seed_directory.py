"""The seed_directory command over the built-in directory (recipients/seed.py): idempotent and complete."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from recipients.models import Organization, RecipientGroup
from recipients.seed import COMMUNES, PARTIAL_TAG

pytestmark = pytest.mark.django_db


def test_seed_directory_is_idempotent_and_complete():
    call_command("seed_directory", stdout=StringIO())
    first = sorted(Organization.objects.values_list("name", "valid_from", "valid_to"))
    call_command("seed_directory", stdout=StringIO())
    assert sorted(Organization.objects.values_list("name", "valid_from", "valid_to")) == first

    assert Organization.objects.filter(kind="bhxh").count() == 23
    districts = Organization.objects.filter(kind="committee", level="district")
    assert districts.count() == 30 and set(districts.values_list("valid_to", flat=True)) == {datetime.date(2025, 6, 30)}
    communes = Organization.objects.filter(kind="committee", level="commune")
    assert communes.count() == len(COMMUNES) and all(
        PARTIAL_TAG in tags for tags in communes.values_list("tags", flat=True)
    )
    assert "chưa đầy đủ" in RecipientGroup.objects.get(name="UBND phường, xã").description
    assert RecipientGroup.objects.filter(name__in=["BHXH cơ sở", "Công an"]).count() == 2
    domains = {email.split("@")[1] for email in Organization.objects.values_list("emails__address", flat=True)}
    assert all(domain.endswith((".example.vn", ".example.com", ".example")) for domain in domains)
