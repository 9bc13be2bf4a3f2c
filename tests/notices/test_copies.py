"""Personalised dispatches (notices/copies.py): one number, one signed copy per organisation, mailed only to its own."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from notices import copies, issuing, merge_data, roles, sendloop, signing, sweeper, verification
from notices.models import AuditEvent, Delivery, DeliveryStatus, Dispatch, DispatchCopy, DispatchStatus
from recipients.models import Organization, OrganizationEmail
from tests.conftest import approve, make_group, make_user, wait_until
from tests.notices.delivery_fixtures import settled

ORGANISATIONS = 30


def pdf_text(data: bytes) -> str:
    """Return the text of a PDF, its white space folded (a name may wrap)."""
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def owed(index: int) -> int:
    """The debt the merge file gives the organisation of that index (each different, so a mix-up shows)."""
    return 1_000_000 + 1_000 * index


def money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng"


def personalised(draft, size: int) -> Dispatch:
    """Approve a personalised dispatch to `size` offices, each with its own debt and months in the merge file."""
    group = make_group(size)
    rows = [["Mã đơn vị", "Số tiền nợ", "Tháng"]]
    for index, org in enumerate(group.members.order_by("pk")):
        Organization.objects.filter(pk=org.pk).update(bhxh_code=f"BH{index:05d}")
        rows += [[f"BH{index:05d}", owed(index), f"{month:02d}/2026"] for month in (1, 2, 3)]
    draft.groups.add(group)
    draft.personalised = True
    draft.subject = "đôn đốc thu nợ"
    draft.body = (
        "<p>Số tiền còn nợ: {{ so_tien_no|money }}, các tháng {% for r in table %}{{ r.thang }} {% endfor %}</p>"
    )
    draft.save()
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    merge_data.attach(draft, buffer.getvalue().encode("utf-8-sig"), "no.csv", "bhxh_code", draft.created_by)
    return approve(draft)


def test_each_of_thirty_organisations_receives_its_own_signed_copy_and_only_it(
    draft, clerk, signing_certificate, smtp_server, celery_worker, fresh_broker, client
):
    dispatch = issuing.issue(personalised(draft, ORGANISATIONS), clerk)
    wait_until(lambda: settled(dispatch), timeout=300)

    made = {c.organization_id: c for c in DispatchCopy.objects.filter(dispatch=dispatch)}
    names = {c.organization_name for c in made.values()}
    assert len(made) == len(names) == ORGANISATIONS
    assert Dispatch.objects.filter(number=dispatch.number, issuer=dispatch.issuer).count() == 1  # one number
    assert len(smtp_server.messages) == ORGANISATIONS
    by_address = {d.address: d for d in Delivery.objects.filter(dispatch=dispatch)}
    for (_, (address,)), message in zip(smtp_server.handler.envelopes, smtp_server.messages, strict=True):
        own = made[by_address[address].organization_id]
        assert message["Subject"].strip() == f"[Số {dispatch.notation}] V/v {own.subject}"
        (pdf,) = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
        data = pdf.get_content()
        assert hashlib.sha256(data).hexdigest() == own.pdf_sha256 != dispatch.pdf_sha256
        text = pdf_text(data)
        assert f"Kính gửi: {own.organization_name}" in text and own.short_code in text
        index = int(Organization.objects.get(pk=own.organization_id).bhxh_code[2:])
        assert f"Số tiền còn nợ: {money(owed(index))}, các tháng 01/2026 02/2026 03/2026" in text
        assert [i for i in range(ORGANISATIONS) if money(owed(i)) in text] == [index]
        assert [name for name in names if name in text] == [own.organization_name]
        assert signing.check_signature(data).ok
    assert Delivery.objects.filter(dispatch=dispatch, status=DeliveryStatus.SENT).count() == ORGANISATIONS
    assert Dispatch.objects.get(pk=dispatch.pk).status == DispatchStatus.SENT

    for copy in made.values():  # each code names its own copy, and nothing of another
        assert verification.find(copy.verification_code) == verification.Found(dispatch, copy)
        assert verification.find(copy.short_code.replace("-", "").lower()) == verification.Found(dispatch, copy)
        page = client.get(reverse("verification:detail", args=[copy.verification_code])).content.decode()
        assert copy.organization_name in page and copy.pdf_sha256 in page
        assert [name for name in names if name in page] == [copy.organization_name]
    first, second = list(made.values())[:2]
    url = reverse("verification:detail", args=[first.verification_code])
    own = client.post(url, {"file": SimpleUploadedFile("a.pdf", first.read(), "application/pdf")})
    assert own.context["result"].genuine
    other = client.post(url, {"file": SimpleUploadedFile("b.pdf", second.read(), "application/pdf")})
    assert not other.context["result"].identical and other.context["result"].signature.ok


@pytest.mark.django_db
def test_making_the_copies_again_skips_those_that_exist(draft, clerk):
    dispatch = personalised(draft, 2)
    Dispatch.objects.filter(pk=dispatch.pk).update(status=DispatchStatus.ISSUED, number=3, year=2026,
                                                   verification_code="c", short_code="AAAA-BBBB-CC")  # fmt: skip
    dispatch.refresh_from_db()
    assert not copies.complete(dispatch)
    assert copies.make_missing(dispatch) == 2
    assert copies.make_missing(dispatch) == 0 and copies.complete(dispatch)
    stored = list(DispatchCopy.objects.filter(dispatch=dispatch))
    assert len({c.pdf.name for c in stored}) == len({c.verification_code for c in stored}) == 2
    assert all(c.pdf.name.startswith("copies/2026/") and c.pdf_sha256 == hashlib.sha256(c.read()).hexdigest()
               for c in stored)  # fmt: skip


@pytest.mark.django_db
def test_the_merge_records_of_many_copies_are_read_in_one_query_not_one_per_copy(draft, clerk):
    dispatch = personalised(draft, 4)
    Dispatch.objects.filter(pk=dispatch.pk).update(status=DispatchStatus.ISSUED, number=6, year=2026,
                                                   verification_code="e", short_code="EEEE-FFFF-GG")  # fmt: skip
    dispatch.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        assert copies.make_missing(dispatch) == 4
    assert sum("notices_mergerecord" in query["sql"] for query in queries.captured_queries) == 1


@pytest.mark.django_db
def test_a_delivery_without_its_copy_fails_and_never_carries_the_shared_pdf(issue_to, smtp_server):
    dispatch = issue_to(2, personalised=True)
    delivery_ids = list(dispatch.deliveries.values_list("pk", flat=True))

    assert sendloop.send_batch(delivery_ids) == 0

    assert smtp_server.messages == []
    assert set(dispatch.deliveries.values_list("status", "last_error")) == {(DeliveryStatus.FAILED, sendloop.NO_COPY)}


@pytest.mark.django_db
def test_a_copy_is_downloaded_by_an_auditor_audited_and_refused_to_anonymous_and_outsiders(
    client, draft, django_user_model
):
    dispatch = personalised(draft, 1)
    Dispatch.objects.filter(pk=dispatch.pk).update(status=DispatchStatus.ISSUED, number=4, year=2026)
    dispatch.refresh_from_db()
    copies.make_missing(dispatch)
    copy = DispatchCopy.objects.get(dispatch=dispatch)
    url = reverse("files:dispatch_copy", args=[copy.pk])

    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")
    client.force_login(django_user_model.objects.create_user("khach", "k@x.vn", "pw", is_staff=True))
    assert client.get(url).status_code == 403
    auditor = make_user("kiemtoan2", roles.AUDITOR)
    client.force_login(auditor)
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == copy.read()
    event = AuditEvent.objects.get(action="download")
    assert event.actor_name == "kiemtoan2" and event.details["file"] == f"copy:{copy.organization_id}"
    assert AuditEvent.objects.filter(action="download:refused", actor_name="khach").exists()


@pytest.mark.django_db
def test_the_dispatch_own_code_of_a_personalised_dispatch_shows_no_organisation_and_no_figure(draft, clerk, client):
    dispatch = issuing.issue(personalised(draft, 2), clerk)
    copies.make_missing(dispatch)
    made = list(DispatchCopy.objects.filter(dispatch=dispatch).select_related("organization"))
    private = [c.organization_name for c in made] + [c.short_code for c in made] + [c.pdf_sha256 for c in made]
    private += [money(owed(i)) for i in range(2)] + [f"{owed(i):,}".replace(",", ".") for i in range(2)]
    assert verification.find(dispatch.verification_code) == verification.Found(dispatch)
    assert verification.find(dispatch.short_code) == verification.Found(dispatch)

    master = pdf_text(dispatch.pdf.open("rb").read())
    url = reverse("verification:detail", args=[dispatch.verification_code])
    page = client.get(url).content.decode()
    found = client.get(reverse("verification:search"), {"code": dispatch.short_code}, follow=True).content.decode()
    assert [value for value in private if value in page or value in found or value in master] == []
    assert "its own copy of this dispatch" in page and dispatch.pdf_sha256 not in page  # sent to nobody as such

    own = client.post(url, {"file": SimpleUploadedFile("a.pdf", made[0].read(), "application/pdf")})
    assert own.context["result"].identical  # a genuine copy checked under the dispatch's code is genuine...
    shown = own.content.decode()  # ...and named nowhere (the page repeats the uploaded file's own SHA-256 only)
    assert [value for value in private if value in shown] == [made[0].pdf_sha256]


def test_an_address_shared_by_two_organisations_receives_each_organisation_copy_in_its_own_message(
    draft, clerk, signing_certificate, smtp_server, celery_worker, fresh_broker
):
    approved = personalised(draft, 3)
    first, second, third = approved.target_organizations().order_by("pk")
    shared = first.emails.get().address  # the first office's address is the second's too (one accountant)
    OrganizationEmail.objects.create(organization=second, address=shared)
    dispatch = issuing.issue(approved, clerk)
    wait_until(lambda: settled(dispatch), timeout=300)

    made = {c.organization_id: c for c in DispatchCopy.objects.filter(dispatch=dispatch)}
    received: dict[str, list[str]] = {}
    for (_, (address,)), message in zip(smtp_server.handler.envelopes, smtp_server.messages, strict=True):
        (pdf,) = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
        received.setdefault(address, []).append(hashlib.sha256(pdf.get_content()).hexdigest())
    own = {
        org.pk: org.emails.exclude(address=shared).values_list("address", flat=True).first() for org in (second, third)
    }
    assert sorted(received[shared]) == sorted([made[first.pk].pdf_sha256, made[second.pk].pdf_sha256])
    assert received[own[second.pk]] == [made[second.pk].pdf_sha256]
    assert received[own[third.pk]] == [made[third.pk].pdf_sha256]
    assert len(smtp_server.messages) == 4
    pairs = set(
        Delivery.objects.filter(dispatch=dispatch, status=DeliveryStatus.SENT).values_list("organization_id", "address")
    )
    assert pairs == {(first.pk, shared), (second.pk, shared), (second.pk, own[second.pk]), (third.pk, own[third.pk])}
    assert Dispatch.objects.get(pk=dispatch.pk).status == DispatchStatus.SENT


@pytest.mark.django_db
def test_each_batch_of_copies_marks_progress_so_the_sweeper_leaves_a_long_making_alone(draft, clerk):
    dispatch = personalised(draft, 2)
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    Dispatch.objects.filter(pk=dispatch.pk).update(status=DispatchStatus.ISSUED, number=8, year=2026,
                                                   updated_at=long_ago)  # fmt: skip
    dispatch.refresh_from_db()
    assert copies.make_missing(dispatch, 0, Organization.objects.order_by("pk").first().pk) == 1  # one range of two

    assert sweeper.restart_stalled_fan_outs(timezone.now() - datetime.timedelta(minutes=10)) == 0
