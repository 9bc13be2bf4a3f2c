"""Stored files: random names, never served from /media/, handed out only to the roles allowed, each audited."""

from __future__ import annotations

import importlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, resolve, reverse
from weasyprint import HTML

import config.urls
from notices import roles
from notices.models import Appendix, AuditEvent
from tests.conftest import make_user
from tests.notices.conftest import issue_as_number

RANDOM_NAME = re.compile(r"^[A-Za-z0-9_-]{32}\.pdf$")


@pytest.fixture
def issued(draft, clerk, monkeypatch):
    return issue_as_number(draft, clerk, 1, monkeypatch)


@pytest.fixture
def secret(draft, clerk, monkeypatch):
    draft.secrecy = "mat"
    draft.save()
    return issue_as_number(draft, clerk, 1, monkeypatch)


def download(client, user, dispatch):
    client.force_login(user)
    return client.get(reverse("files:dispatch_pdf", args=[dispatch.pk]))


def test_the_media_folder_is_not_served_even_in_debug(settings):
    settings.DEBUG = True
    try:
        importlib.reload(config.urls)
        with pytest.raises(Resolver404):
            resolve("/media/dispatches/2026/secret-0001-20.pdf", urlconf=config.urls)
    finally:
        settings.DEBUG = False
        importlib.reload(config.urls)


def test_a_stored_dispatch_pdf_has_a_random_name(secret):
    year, name = secret.pdf.name.split("/")[1:]
    assert year == "2026" and RANDOM_NAME.match(name), secret.pdf.name
    assert "secret" not in secret.pdf.name and f"-{secret.pk}" not in secret.pdf.name


def test_an_anonymous_download_is_sent_to_the_login(client, secret):
    response = client.get(reverse("files:dispatch_pdf", args=[secret.pk]))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert not AuditEvent.objects.filter(action="download").exists()


def test_staff_download_an_ordinary_dispatch_and_it_is_audited(client, issued, drafter):
    response = download(client, drafter, issued)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF-")
    assert 'filename="01-BHXH-QLT.pdf"' in response["Content-Disposition"]
    event = AuditEvent.objects.get(action="download")
    assert event.actor_name == drafter.username and event.object_id == str(issued.pk) and event.details["file"] == "pdf"


@pytest.mark.parametrize("role", [roles.AUDITOR, roles.APPROVER])
def test_a_secret_dispatch_is_refused_to_roles_that_do_not_keep_secrets(client, secret, role):
    outsider = make_user("nguoingoai", role)
    assert download(client, outsider, secret).status_code == 403
    assert AuditEvent.objects.filter(action="download:refused", actor_name="nguoingoai").exists()
    assert not AuditEvent.objects.filter(action="download").exists()


def test_a_secret_dispatch_is_handed_to_the_records_office_and_its_drafter(client, secret, drafter):
    clerk2 = make_user("vanthu2", roles.CLERK)
    assert download(client, clerk2, secret).status_code == 200
    assert download(client, drafter, secret).status_code == 200


def test_a_user_without_the_view_permission_gets_nothing(client, issued, django_user_model):
    nobody = django_user_model.objects.create_user("khach", "k@x.vn", "pw", is_staff=True)
    assert download(client, nobody, issued).status_code == 403


def test_the_admin_links_the_pdf_through_the_download_view(client, issued, clerk):
    client.force_login(clerk)
    html = client.get(reverse("admin:notices_dispatch_change", args=[issued.pk])).content.decode()
    assert reverse("files:dispatch_pdf", args=[issued.pk]) in html
    assert "/media/" not in html and issued.pdf.name not in html


def test_an_appendix_gets_a_random_name_and_its_admin_link_goes_through_the_view(client, draft, drafter):
    data = HTML(string="<p>Phụ lục</p>").write_pdf()
    item = Appendix.objects.create(dispatch=draft, title="Danh sách", file=SimpleUploadedFile("no-danh-sach.pdf", data))
    assert RANDOM_NAME.match(item.file.name.rsplit("/", 1)[-1]) and "danh-sach" not in item.file.name
    client.force_login(drafter)
    html = client.get(reverse("admin:notices_dispatch_change", args=[draft.pk])).content.decode()
    assert reverse("files:appendix", args=[item.pk]) in html and "/media/" not in html
    response = client.get(reverse("files:appendix", args=[item.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == item.read()
    assert AuditEvent.objects.get(action="download").details["file"] == "appendix:1"


def test_the_drafter_downloads_the_merge_file_and_the_download_is_audited(client, uploaded, drafter):
    client.force_login(drafter)
    response = client.get(reverse("files:merge_file", args=[uploaded.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content)[:2] == b"PK"
    assert AuditEvent.objects.filter(action="download", details__file="merge_data").count() == 1


def test_an_auditor_may_not_download_the_merge_file_and_the_refusal_is_audited(client, uploaded, auditor):
    client.force_login(auditor)
    assert client.get(reverse("files:merge_file", args=[uploaded.pk])).status_code == 403
    assert AuditEvent.objects.filter(action="download:refused", details__file="merge_data").count() == 1
