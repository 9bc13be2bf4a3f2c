"""The public verification page: what it shows, what it never shows, uploads, codes and rate limiting."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from notices import verification
from notices.models import Dispatch, DispatchStatus, codes
from tests.conftest import make_group
from tests.notices.conftest import issue_as_number, open_pdf, stored_pdf
from tests.notices.test_signing import flip_a_signed_byte


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.delete("verify-rate:127.0.0.1")
    yield
    cache.delete("verify-rate:127.0.0.1")


@pytest.fixture
def genuine(draft, clerk, monkeypatch, signing_certificate):
    monkeypatch.setattr("notices.sending.start", lambda dispatch_id: None)
    draft.groups.add(make_group(2))
    return issue_as_number(draft, clerk, 5, monkeypatch)


def page_of(client, dispatch: Dispatch, **kwargs):
    return client.get(f"/xac-thuc/{dispatch.verification_code}/", **kwargs)


def test_it_shows_a_valid_dispatch_to_anyone_without_its_recipients(client, genuine):
    response = page_of(client, genuine)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-validity="valid"' in html
    for shown in ["BẢO HIỂM XÃ HỘI THÀNH PHỐ HÀ NỘI", "05/BHXH-QLT", "Hà Nội, ngày 05 tháng 3 năm 2026",
                  "V/v phối hợp đôn đốc đóng BHXH, BHYT năm 2026", "Nguyễn Văn Minh", genuine.pdf_sha256]:  # fmt: skip
        assert shown in html
    assert "bhxh-hanoi.example.vn" not in html and "cơ sở số 000" not in html
    assert "1900 9068" in html and "OTP" in html


def test_it_shows_a_recalled_dispatch_as_recalled(client, genuine):
    Dispatch.objects.filter(pk=genuine.pk).update(status=DispatchStatus.RECALLED)
    assert 'data-validity="recalled"' in page_of(client, genuine).content.decode()


def test_it_shows_a_replaced_dispatch_as_replaced(client, genuine, clerk, monkeypatch):
    replacement = Dispatch.objects.create(
        issuer=genuine.issuer, drafting_unit=genuine.drafting_unit, signer=genuine.signer,
        subject="thay thế", body="<p>Nội dung đúng./.</p>", replaces=genuine,
    )  # fmt: skip
    assert 'data-validity="valid"' in page_of(client, genuine).content.decode(), "a draft replaces nothing yet"
    issue_as_number(replacement, clerk, 6, monkeypatch)
    assert 'data-validity="replaced"' in page_of(client, genuine).content.decode()


def test_an_uploaded_genuine_copy_is_identical_and_its_signature_intact(client, genuine):
    upload = SimpleUploadedFile("cong-van.pdf", stored_pdf(genuine), "application/pdf")
    html = client.post(f"/xac-thuc/{genuine.verification_code}/", {"file": upload}).content.decode()
    assert 'data-upload="identical"' in html and 'data-signature="intact"' in html


def test_an_uploaded_altered_copy_is_rejected(client, genuine):
    altered = flip_a_signed_byte(stored_pdf(genuine))
    upload = SimpleUploadedFile("cong-van.pdf", altered, "application/pdf")
    html = client.post(f"/xac-thuc/{genuine.verification_code}/", {"file": upload}).content.decode()
    assert 'data-upload="different"' in html and 'data-signature="broken"' in html


def test_a_file_that_is_not_a_pdf_is_told_apart_without_an_error(client, genuine):
    upload = SimpleUploadedFile("cong-van.pdf", b"MZ not a pdf at all", "application/pdf")
    html = client.post(f"/xac-thuc/{genuine.verification_code}/", {"file": upload}).content.decode()
    assert 'data-upload="different"' in html and 'data-signature="missing"' in html


def test_the_short_code_can_be_typed_loosely(client, genuine):
    typed = genuine.short_code.replace("-", " ").lower()
    response = client.get("/xac-thuc/", {"code": typed})
    assert response.status_code == 302 and response["Location"] == f"/xac-thuc/{genuine.verification_code}/"


def test_an_unknown_code_warns_of_a_forgery(client, genuine):
    response = client.get("/xac-thuc/", {"code": "AAAA-BBBB-CC"})
    assert "may be forged" in response.content.decode() or "giả mạo" in response.content.decode()
    assert client.get("/xac-thuc/not-a-real-code/").status_code == 404


def test_codes_are_unguessable_and_typable(genuine):
    assert len(genuine.verification_code) >= 22  # 22 url-safe characters carry 128 bits; ours carry 192
    assert re.fullmatch(r"[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{2}", genuine.short_code)
    with open_pdf(stored_pdf(genuine)) as pdf:
        first_page = " ".join(pdf.pages[0].extract_text().split())
    assert f"Mã: {genuine.short_code}" in first_page and "127.0.0.1:8000/xac-thuc" in first_page
    assert len({codes.new_verification_code() for _ in range(1000)}) == 1000


def test_look_ups_are_rate_limited_by_address(client, genuine, settings):
    settings.VERIFY_RATE_LIMIT = 3
    statuses = [page_of(client, genuine).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert page_of(client, genuine, REMOTE_ADDR="10.0.0.9").status_code == 200
    cache.delete("verify-rate:10.0.0.9")


def test_a_draft_has_no_verification_page(client, draft):
    assert client.get("/xac-thuc/", {"code": draft.short_code or "x"}).status_code == 200
    assert verification.find_dispatch("") is None


def test_a_cache_outage_does_not_take_the_page_down(client, genuine, monkeypatch):
    def unavailable(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "add", unavailable)
    assert page_of(client, genuine).status_code == 200
