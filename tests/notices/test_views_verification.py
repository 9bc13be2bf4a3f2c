"""The public verification page (notices/views/verification.py): what it shows and never shows, uploads, rate limits."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from weasyprint import HTML

from notices import verification
from notices.models import Dispatch, DispatchStatus
from tests.notices.conftest import forge, issue_as_number, stored_pdf
from tests.notices.test_signing import flip_a_signed_byte


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.delete("verify-rate:127.0.0.1")
    yield
    cache.delete("verify-rate:127.0.0.1")


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


def test_unknown_codes_are_rate_limited_by_address(client, genuine, settings):
    settings.VERIFY_RATE_LIMIT = 3
    statuses = [client.get(f"/xac-thuc/guess-{n}/").status_code for n in range(3)]
    statuses += [client.get("/xac-thuc/", {"code": "AAAA-BBBB-CC"}).status_code]
    assert statuses == [404, 404, 404, 429]
    assert page_of(client, genuine).status_code == 429, "a guesser learns nothing more, not even from hits"
    assert page_of(client, genuine, REMOTE_ADDR="10.0.0.9").status_code == 200
    cache.delete("verify-rate:10.0.0.9")


def test_an_office_behind_one_address_checks_genuine_dispatches_without_limit(client, genuine, settings):
    settings.VERIFY_RATE_LIMIT = 3
    assert {page_of(client, genuine).status_code for _ in range(40)} == {200}
    assert client.get("/xac-thuc/", {"code": genuine.short_code}).status_code == 302


def test_a_forged_copy_is_the_first_thing_the_page_says(client, genuine, second_root):
    forged = forge(HTML(string="<p>Công văn giả</p>").write_pdf(), second_root[0])
    upload = SimpleUploadedFile("cong-van.pdf", forged, "application/pdf")
    html = client.post(f"/xac-thuc/{genuine.verification_code}/", {"file": upload}).content.decode()
    assert 'data-signature="untrusted"' in html and 'data-signature="intact"' not in html
    assert html.index('data-upload="different"') < html.index('data-validity="valid"')
    assert "Bảo hiểm xã hội thành phố Hà Nội" in html.split('class="signed-by">')[1]


def test_a_genuine_copy_shows_who_signed_it_after_the_dispatch(client, genuine):
    upload = SimpleUploadedFile("cong-van.pdf", stored_pdf(genuine), "application/pdf")
    html = client.post(f"/xac-thuc/{genuine.verification_code}/", {"file": upload}).content.decode()
    assert html.index('data-validity="valid"') < html.index('data-upload="identical"')
    assert 'class="signed-by">Bảo hiểm xã hội thành phố Hà Nội (THỬ NGHIỆM)' in html and 'class="signed-at">' in html


def test_a_recall_shows_its_reason_date_and_replacement(client, genuine, clerk, monkeypatch):
    Dispatch.objects.filter(pk=genuine.pk).update(
        status=DispatchStatus.RECALLED, recall_reason="Sai số liệu phụ lục", recalled_at=genuine.issued_at
    )
    replacement = Dispatch.objects.create(
        issuer=genuine.issuer, drafting_unit=genuine.drafting_unit, signer=genuine.signer,
        subject="thay thế", body="<p>Nội dung đúng./.</p>", replaces=genuine,
    )  # fmt: skip
    issue_as_number(replacement, clerk, 6, monkeypatch)
    html = page_of(client, genuine).content.decode()
    assert 'data-validity="recalled"' in html and "Sai số liệu phụ lục" in html and "05/03/2026" in html
    assert f'href="/xac-thuc/{replacement.verification_code}/" data-replacement="06/BHXH-QLT"' in html
    back = page_of(client, replacement).content.decode()
    assert f'href="/xac-thuc/{genuine.verification_code}/" data-replaces="05/BHXH-QLT"' in back


def test_a_draft_has_no_verification_page(client, draft):
    assert client.get("/xac-thuc/", {"code": draft.short_code or "x"}).status_code == 200
    assert verification.find_dispatch("") is None


def test_a_cache_outage_does_not_take_the_page_down(client, genuine, monkeypatch):
    def unavailable(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "add", unavailable)
    assert page_of(client, genuine).status_code == 200


def test_an_upload_is_checked_in_the_sandbox_and_a_runaway_check_is_not_trusted(client, genuine, settings):
    settings.SANDBOX_TIMEOUT_SECONDS = 0.01  # no check finishes this fast: it is stopped like a runaway
    upload = SimpleUploadedFile("cong-van.pdf", stored_pdf(genuine), "application/pdf")
    response = client.post(f"/xac-thuc/{genuine.verification_code}/", {"file": upload})
    html = response.content.decode()
    assert response.status_code == 200 and 'data-signature="unchecked"' in html
    assert html.index('data-signature="unchecked"') < html.index('data-validity="valid"')
