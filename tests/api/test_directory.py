"""The directory through the API (api/views.py: OrganizationDetail, OrganizationsBulk): lookup by code, and bulk
writes with the CSV import's own validation and messages (recipients/importing.py), all or nothing."""

from __future__ import annotations

import csv
import io

from django.utils import translation

from api.models import Scope
from notices.models import AuditEvent
from recipients.importing import import_directory
from recipients.models import Organization, RecipientGroup

GOOD = [
    {"name": "Công ty TNHH Hồng Hà", "kind": "doanh nghiệp", "bhxh_code": "tb01234", "tax_code": "0101234567",
     "emails": ["ketoan@hongha.example.vn", "giamdoc@hongha.example.vn"]},
    {"name": "UBND phường Ba Đình", "kind": "ubnd", "level": "phường", "agency_code": "000.00.31.h26",
     "emails": ["vanthu@badinh.example.vn"]},
]  # fmt: skip
BAD = [
    {"name": "Công ty A", "kind": "doanh nghiệp", "tax_code": "12345", "emails": ["a@example.vn"]},
    {"name": "Công ty B", "kind": "không rõ", "emails": ["not-an-address"]},
]


def test_it_looks_up_an_organisation_by_any_of_its_codes(employers, make_client, clerk):
    _key, client = make_client(clerk, [Scope.DIRECTORY])
    answer = client.get("/api/v1/organizations/tb00002/").json()
    assert (answer["name"], answer["bhxh_code"]) == ("Công ty Hồng Hà 2", "TB00002")
    assert answer["emails"] == [employers[1].emails.get().address]
    missing = client.get("/api/v1/organizations/XX0000/")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_it_creates_then_updates_organisations_in_bulk_and_audits_with_the_key(make_client, clerk):
    key, client = make_client(clerk, [Scope.DIRECTORY])
    created = client.post_json("/api/v1/organizations/bulk/", {"organizations": GOOD, "group": "Đối tác API"})
    assert created.status_code == 200, created.json()
    assert created.json() == {"created": 2, "updated": 0, "unchanged": 0}
    hong_ha = Organization.objects.get(bhxh_code="TB01234")
    assert (hong_ha.kind, hong_ha.level) == ("employer", "city")
    assert sorted(hong_ha.emails.values_list("address", flat=True)) == ["giamdoc@hongha.example.vn",
                                                                       "ketoan@hongha.example.vn"]  # fmt: skip
    assert RecipientGroup.objects.get(name="Đối tác API").members.count() == 2
    renamed = [{**GOOD[0], "name": "Công ty TNHH Hồng Hà Việt Nam"}, GOOD[1]]
    updated = client.post_json("/api/v1/organizations/bulk/", {"organizations": renamed})
    assert updated.json() == {"created": 0, "updated": 1, "unchanged": 1}
    assert Organization.objects.get(bhxh_code="TB01234").name == "Công ty TNHH Hồng Hà Việt Nam"
    events = AuditEvent.objects.filter(action="api:directory")
    assert [e.details for e in events.order_by("seq")] == [
        {"api_key": key.name, "created": 2, "updated": 0}, {"api_key": key.name, "created": 0, "updated": 1}]  # fmt: skip


def csv_of(items: list[dict]) -> bytes:
    """The same organisations as a directory CSV file, as a clerk would upload it."""
    columns = ["name", "kind", "tax_code", "emails"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for item in items:
        writer.writerow([";".join(item[c]) if c == "emails" else item.get(c, "") for c in columns])
    return buffer.getvalue().encode()


def test_an_invalid_organisation_writes_nothing_with_the_csv_imports_messages(make_client, clerk):
    _key, client = make_client(clerk, [Scope.DIRECTORY])
    response = client.post_json("/api/v1/organizations/bulk/", {"organizations": [GOOD[0], *BAD]})
    assert response.status_code == 422
    answer = response.json()
    assert answer["code"] == "directory_invalid"
    assert answer["message"] == "Chưa ghi gì: 2 tổ chức có lỗi."
    with translation.override("vi"):  # the API answers in Vietnamese; so does the admin's import by default
        imported = import_directory(csv_of([GOOD[0], *BAD]), "danh-ba.csv", dry_run=True)
    assert [(e["row"], e["column"], e["message"]) for e in answer["errors"]] == [
        (e.row - 1, e.column, e.message) for e in imported.errors]  # fmt: skip
    assert {e["row"] for e in answer["errors"]} == {2, 3}
    assert not Organization.objects.exists(), "all or nothing"
    assert not AuditEvent.objects.filter(action="api:directory").exists()


def test_the_bulk_body_has_limits(make_client, clerk):
    _key, client = make_client(clerk, [Scope.DIRECTORY])
    empty = client.post_json("/api/v1/organizations/bulk/", {"organizations": []})
    assert (empty.status_code, empty.json()["code"]) == (400, "invalid")
    too_long = client.post_json("/api/v1/organizations/bulk/", {"organizations": [{**GOOD[0], "name": "x" * 300}]})
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["message"] == "Quá dài: 300 ký tự, tối đa 255."
