"""The merge data page of a personalised dispatch: upload, report, a copy's preview, and who may see them."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from notices.merge_data import attach
from recipients.models import OrganizationEmail, Suppression, SuppressionReason
from tests.notices.merge_fixtures import HEADER
from tests.recipients.conftest import xlsx_bytes


def test_the_drafter_uploads_sees_the_report_and_previews_a_copy_and_the_approver_previews_it(
    client, personalised, employers, drafter, approver
):
    client.force_login(drafter)
    url = reverse("admin:notices_dispatch_merge", args=[personalised.pk])
    rows = [HEADER, *[[org.bhxh_code, org.name, 1500000 * i, "01/2026"] for i, org in enumerate(employers[:2], 1)]]
    upload = SimpleUploadedFile("no.xlsx", xlsx_bytes(rows))
    response = client.post(url, {"file": upload, "match_key": "bhxh_code"}, follow=True)
    page = response.content.decode()
    assert "2 of 3 targeted organisations have data." in page
    assert "No row for the organisation “Công ty Hồng Hà 3”." in page
    for user in (drafter, approver):
        client.force_login(user)
        pdf = client.get(reverse("admin:notices_dispatch_merge_preview", args=[personalised.pk, employers[1].pk]))
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "3.000.000 đồng" in text and "DỰ THẢO" in text and "Công ty Hồng Hà 2" in text
        assert "1.500.000" not in text


def test_an_auditor_may_not_see_the_merge_page(client, personalised, auditor):
    client.force_login(auditor)
    assert client.get(reverse("admin:notices_dispatch_merge", args=[personalised.pk])).status_code == 403


def test_the_approver_sees_three_copies_at_random_and_the_counts_before_approving(
    client, personalised, employers, drafter, approver
):
    rows = [HEADER, *[[org.bhxh_code, org.name, 1000 * i, "01/2026"] for i, org in enumerate(employers, 1)]]
    attach(personalised, xlsx_bytes(rows), "no.xlsx", "bhxh_code", drafter)
    personalised.submit(drafter)
    client.force_login(approver)
    response = client.get(reverse("admin:notices_dispatch_workflow", args=[personalised.pk, "approve"]))
    assert response.status_code == 200, response.status_code
    page = response.content.decode()
    assert "3 of 3 targeted organisations have data." in page
    assert page.count('class="module merge-sample"') == 3
    assert all(f"{1000 * i:,} đồng".replace(",", ".") in page for i in (1, 2, 3))
    client.post(reverse("admin:notices_dispatch_workflow", args=[personalised.pk, "approve"]))
    personalised.refresh_from_db()
    assert personalised.status == "approved"


def test_the_issue_confirmation_counts_one_email_per_organisation_at_an_address_they_share(
    client, uploaded, employers, drafter, approver, clerk
):
    shared = f"ke-toan{employers[0].pk}@example.com"  # the first employer's accountant also keeps the second's books
    OrganizationEmail.objects.create(organization=employers[1], address=shared)
    Suppression.objects.create(address=shared.upper(), reason=SuppressionReason.HARD_BOUNCE)
    uploaded.submit(drafter)
    uploaded.approve(approver)
    assert uploaded.issue_preview().addresses == 3 and uploaded.issue_preview().emails == 4

    client.force_login(clerk)
    page = client.get(reverse("admin:notices_dispatch_workflow", args=[uploaded.pk, "issue"]))
    text = " ".join(page.content.decode().split())
    assert '<strong class="organization-count">3</strong> organisations' in text
    assert '<strong class="address-count">3</strong> addresses' in text
    assert '<strong class="email-count">4</strong> emails in all' in text
    assert '<strong class="suppressed-count">2</strong> of these emails go to an address on the suppression' in text
