"""Reading dispatches through the API (api/views.py: DispatchDetail, Deliveries, Acknowledgements, Pdf, CopyPdf,
Edxml): the same access rule as the stored files, cursor pages, audited downloads."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.db import connection
from lxml import etree
from signxml import XMLVerifier

from api.models import Scope
from notices import edxml, issuing, xml_signing
from notices.models import AuditEvent, Delivery, DispatchCopy
from tests.notices.delivery_fixtures import PDF, many_deliveries


def test_it_reads_a_dispatchs_status_and_counts(sent, drafter, make_client):
    _key, client = make_client(drafter, [Scope.READ])
    answer = client.get(f"/api/v1/dispatches/{sent.pk}/").json()
    assert (answer["status"], answer["notation"], answer["counts"], answer["acknowledged"]) == (
        "sent", sent.notation, {"delivered": 3}, 1)  # fmt: skip


def test_it_pages_the_deliveries_by_cursor_without_repeating_or_skipping(sent, drafter, make_client):
    _key, client = make_client(drafter, [Scope.READ])
    url = f"/api/v1/dispatches/{sent.pk}/deliveries/"
    first = client.get(url, {"limit": 2}).json()
    second = client.get(url, {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert second["next_cursor"] is None
    seen = [row["id"] for row in first["results"] + second["results"]]
    assert seen == list(Delivery.objects.filter(dispatch=sent).order_by("pk").values_list("pk", flat=True))
    row = first["results"][0]
    assert (row["status"], row["kind"], row["address"]) == ("delivered", "dispatch", "office000@bhxh-hanoi.example.vn")


def test_a_deep_page_is_an_index_range_scan_not_a_sort(sent, drafter, make_client):
    many_deliveries(sent, 5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE notices_delivery")
    last = Delivery.objects.filter(dispatch=sent).order_by("-pk").values_list("pk", flat=True)[200]
    query = Delivery.every_kind.filter(dispatch=sent, pk__gt=last).order_by("pk")[:101]
    plan = query.explain()
    assert "Index Scan" in plan and "Sort" not in plan, plan  # the pages come off an index in id order
    _key, client = make_client(drafter, [Scope.READ])
    page = client.get(f"/api/v1/dispatches/{sent.pk}/deliveries/", {"cursor": last}).json()
    assert len(page["results"]) == 100 and page["results"][0]["id"] > last


def test_it_refuses_a_cursor_it_did_not_give(sent, drafter, make_client):
    _key, client = make_client(drafter, [Scope.READ])
    for params in ({"cursor": "abc"}, {"limit": 0}, {"limit": 5000}, {"cursor": -1}):
        response = client.get(f"/api/v1/dispatches/{sent.pk}/deliveries/", params)
        assert (response.status_code, response.json()["code"]) == (400, "bad_cursor")


def test_it_lists_the_acknowledgements(sent, drafter, make_client):
    _key, client = make_client(drafter, [Scope.READ])
    page = client.get(f"/api/v1/dispatches/{sent.pk}/acknowledgements/").json()
    assert [row["address"] for row in page["results"]] == ["office000@bhxh-hanoi.example.vn"]
    assert page["results"][0]["acknowledged_at"] is not None


def test_a_secret_dispatch_is_not_seen_by_a_key_whose_account_may_not_see_it(draft, make_client):
    from notices import roles
    from tests.conftest import make_user

    draft.secrecy = "mat"
    draft.save()
    _key, client = make_client(make_user("soanthao2", roles.DRAFTER), [Scope.READ])
    for path in ("", "deliveries/", "pdf/", "edxml/"):
        assert client.get(f"/api/v1/dispatches/{draft.pk}/{path}").status_code == 404


def test_it_hands_out_the_issued_pdf_and_audits_it_with_the_key(issue_to, drafter, make_client):
    dispatch = issue_to(2)
    key, client = make_client(drafter, [Scope.READ])
    response = client.get(f"/api/v1/dispatches/{dispatch.pk}/pdf/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf" and "no-store" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="api:download", object_id=str(dispatch.pk))
    assert (event.details["api_key"], event.details["file"]) == (key.name, "pdf")


def test_a_draft_has_no_pdf(draft, drafter, make_client):
    _key, client = make_client(drafter, [Scope.READ])
    response = client.get(f"/api/v1/dispatches/{draft.pk}/pdf/")
    assert (response.status_code, response.json()["code"]) == (404, "no_pdf")


def test_it_hands_out_one_organisations_personalised_copy(issue_to, employers, drafter, make_client):
    dispatch = issue_to(1, personalised=True)
    copy = DispatchCopy(dispatch=dispatch, organization=employers[0], organization_name=employers[0].name,
                        subject="x", pdf_sha256=hashlib.sha256(b"%PDF-copy").hexdigest(), verification_code="v" * 40,
                        short_code="COPY1")  # fmt: skip
    copy.pdf.save("copy.pdf", ContentFile(b"%PDF-copy"), save=False)
    copy.save()
    _key, client = make_client(drafter, [Scope.READ])
    response = client.get(f"/api/v1/dispatches/{dispatch.pk}/copies/{employers[0].bhxh_code}/pdf/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-copy"
    missing = client.get(f"/api/v1/dispatches/{dispatch.pk}/copies/{employers[1].bhxh_code}/pdf/")
    assert (missing.status_code, missing.json()["code"]) == (404, "no_copy")
    assert AuditEvent.objects.get(action="api:download").details["file"] == f"copy:{employers[0].pk}"


def test_it_exports_the_signed_edxml_and_its_revoke_variant_once_recalled(exported, clerk, drafter, make_client):
    key, client = make_client(drafter, [Scope.READ])
    response = client.get(f"/api/v1/dispatches/{exported.pk}/edxml/")
    assert response.status_code == 200 and response.content == edxml.package_for(exported)
    XMLVerifier().verify(etree.fromstring(response.content), x509_cert=xml_signing.agency_certificate_pem())
    assert AuditEvent.objects.get(action="api:download").details == {
        "api_key": key.name, "file": "edxml", "name": "05-BHXH-QLT.edxml"}  # fmt: skip
    issuing.recall(exported, clerk, "Văn bản ban hành sai thẩm quyền.")
    revoked = client.get(f"/api/v1/dispatches/{exported.pk}/edxml/")
    assert 'filename="05-BHXH-QLT-thu-hoi.edxml"' in revoked["Content-Disposition"]
    assert "Văn bản ban hành sai thẩm quyền." in revoked.content.decode()


def test_a_draft_has_no_edxml(draft, drafter, make_client):
    _key, client = make_client(drafter, [Scope.READ])
    response = client.get(f"/api/v1/dispatches/{draft.pk}/edxml/")
    assert (response.status_code, response.json()["code"]) == (409, "edxml_refused")
