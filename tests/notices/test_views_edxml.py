"""The edXML download: logged-in staff whose role may see the dispatch's files, each download audited."""

from __future__ import annotations

import pytest
from django.urls import reverse
from lxml import etree
from signxml import XMLVerifier

from notices import edxml, roles, xml_signing
from notices.models import AuditEvent
from tests.conftest import make_user
from tests.notices.edxml_fixtures import ISSUER_CODE, issued_as_stored

pytestmark = pytest.mark.django_db
NS = {"e": edxml.NS}


@pytest.fixture
def issued(draft, bodies, clerk, signing_certificate, small_pdf):
    return issued_as_stored(draft, clerk, small_pdf)


def download(client, user, dispatch):
    client.force_login(user)
    return client.get(reverse("files:dispatch_edxml", args=[dispatch.pk]))


def test_staff_download_the_signed_package_and_it_is_audited(client, issued, drafter):
    response = download(client, drafter, issued)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    assert 'attachment; filename="05-BHXH-QLT.edxml"' == response["Content-Disposition"]
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    root = etree.fromstring(response.content)
    assert (
        root.findtext(".//e:DocumentId", namespaces=NS)
        == f"{ISSUER_CODE},{edxml.promulgation_date(issued)},05/BHXH-QLT"
    )
    XMLVerifier().verify(root, x509_cert=xml_signing.agency_certificate_pem())
    event = AuditEvent.objects.get(action="download")
    assert event.actor_name == drafter.username and event.details == {"file": "edxml", "name": "05-BHXH-QLT.edxml"}


def test_an_anonymous_download_is_sent_to_the_login(client, issued):
    response = client.get(reverse("files:dispatch_edxml", args=[issued.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert not AuditEvent.objects.filter(action__startswith="download").exists()


def test_a_user_whose_role_cannot_see_dispatches_is_refused_and_it_is_audited(client, issued):
    outsider = make_user("nguoingoai", roles.DRAFTER)
    outsider.groups.clear()  # staff, but no role: no view permission
    assert download(client, outsider, issued).status_code == 403
    refused = AuditEvent.objects.get(action="download:refused")
    assert refused.actor_name == "nguoingoai" and refused.details == {"file": "edxml"}
    assert not AuditEvent.objects.filter(action="download").exists()


def test_a_secret_dispatch_is_refused_to_roles_that_do_not_keep_secrets(client, draft, bodies, clerk, small_pdf,
                                                                        signing_certificate):  # fmt: skip
    draft.secrecy = "mat"
    secret = issued_as_stored(draft, clerk, small_pdf)
    assert download(client, make_user("kiemtoan2", roles.AUDITOR), secret).status_code == 403
    assert AuditEvent.objects.filter(action="download:refused", actor_name="kiemtoan2").exists()


def test_a_secret_dispatch_is_not_exported_even_to_the_records_office(client, draft, bodies, clerk, small_pdf,
                                                                      signing_certificate):  # fmt: skip
    draft.secrecy = "mat"
    secret = issued_as_stored(draft, clerk, small_pdf)
    response = download(client, clerk, secret)
    assert response.status_code == 302 and response["Location"] == reverse("admin:notices_dispatch_change",
                                                                          args=[secret.pk])  # fmt: skip
    page = client.get(response["Location"])
    assert "secret documents are never exchanged electronically" in page.content.decode()
    refused = AuditEvent.objects.get(action="download:refused")
    assert refused.details["file"] == "edxml" and "MẬT" in refused.details["reason"]
    assert not AuditEvent.objects.filter(action="download").exists()


def test_a_draft_has_no_package(client, draft, clerk, signing_certificate):
    response = download(client, clerk, draft)
    assert response.status_code == 302
    assert "Only an issued dispatch" in client.get(response["Location"]).content.decode()


def test_the_dispatch_page_links_the_package_in_vietnamese(client, issued, clerk, settings):
    settings.LANGUAGE_CODE = "vi"
    client.force_login(clerk)
    page = client.get(reverse("admin:notices_dispatch_change", args=[issued.pk]))
    link = reverse("files:dispatch_edxml", args=[issued.pk])
    assert f'<a href="{link}">Tải gói edXML</a>' in page.content.decode()


def test_a_recalled_dispatch_links_and_downloads_the_revoke_package(client, issued, clerk):
    issued.recall(clerk, "Sai thẩm quyền.")
    client.force_login(clerk)
    page = client.get(reverse("admin:notices_dispatch_change", args=[issued.pk])).content.decode()
    assert "Download the edXML revoke package" in page
    response = download(client, clerk, issued)
    assert response["Content-Disposition"] == 'attachment; filename="05-BHXH-QLT-thu-hoi.edxml"'
    assert etree.fromstring(response.content).findtext(".//e:BussinessDocType", namespaces=NS) == "1"


def test_a_secret_dispatch_page_offers_no_package(client, draft, bodies, clerk, small_pdf, signing_certificate):
    draft.secrecy = "mat"
    secret = issued_as_stored(draft, clerk, small_pdf)
    client.force_login(clerk)
    page = client.get(reverse("admin:notices_dispatch_change", args=[secret.pk])).content.decode()
    assert reverse("files:dispatch_edxml", args=[secret.pk]) not in page and "EdXML package" in page
