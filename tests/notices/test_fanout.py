"""The fan-out (notices/fanout.py): one delivery per recipient address, page by page, never for a secret dispatch."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notices import fanout, sendloop, tasks
from notices.models import Delivery, Dispatch, DispatchStatus
from notices.transports import TransportError
from recipients.importing import import_directory
from recipients.models import Organization, OrganizationEmail, Suppression
from tests.conftest import make_group
from tests.notices.delivery_fixtures import PDF, S, event_types, ids_of
from tests.recipients.conftest import csv_bytes, employer


@pytest.mark.django_db
def test_copied_addresses_of_one_organisation_get_their_own_messages(issue_to, smtp_server):
    dispatch = issue_to(1)
    org = Organization.objects.get()
    OrganizationEmail.objects.create(organization=org, address="vanthu.copy@bhxh-hanoi.example.vn")
    fanout.write_page(dispatch, "", None)
    sendloop.send_batch(ids_of(dispatch))
    assert sorted(rcpts for _, rcpts in smtp_server.handler.envelopes) == [
        ["office000@bhxh-hanoi.example.vn"],
        ["vanthu.copy@bhxh-hanoi.example.vn"],
    ]


@pytest.mark.django_db
def test_a_suppressed_address_is_recorded_as_suppressed_and_never_sent(draft, clerk, issue_to, smtp_server):
    Suppression.objects.create(address="office001@bhxh-hanoi.example.vn", reason="bounce")
    dispatch = issue_to(3)
    sendloop.send_batch(ids_of(dispatch))

    suppressed = Delivery.objects.get(address="office001@bhxh-hanoi.example.vn")
    assert suppressed.status == S.SUPPRESSED and event_types(suppressed) == ["suppressed"]
    assert "office001@bhxh-hanoi.example.vn" not in smtp_server.handler.counts
    assert len(smtp_server.messages) == 2


@pytest.mark.django_db
def test_the_fan_out_refuses_a_secret_dispatch(draft, clerk, fresh_broker):
    draft.groups.add(make_group(2))
    Dispatch.objects.filter(pk=draft.pk).update(secrecy="toi_mat", status=DispatchStatus.ISSUED, number=3)
    tasks.fan_out(draft.pk)
    tasks.fan_out_page(draft.pk, "", None, 2)
    assert not Delivery.objects.exists()
    with pytest.raises(TransportError):
        fanout.begin_sending(Dispatch.objects.get(pk=draft.pk))


@pytest.mark.django_db
def test_create_deliveries_writes_every_address_in_one_go_and_refuses_a_secret_dispatch(draft, clerk, settings):
    settings.SEND_FANOUT_PAGE_SIZE = 3
    draft.groups.add(make_group(7))
    Dispatch.objects.filter(pk=draft.pk).update(status=DispatchStatus.ISSUED, number=2)
    draft.refresh_from_db()
    assert fanout.create_deliveries(draft) == 7
    Dispatch.objects.filter(pk=draft.pk).update(secrecy="tuyet_mat")
    draft.refresh_from_db()
    with pytest.raises(TransportError) as refused:
        fanout.create_deliveries(draft)
    assert refused.value.permanent


@pytest.mark.django_db
def test_a_dispatch_does_not_finish_before_its_fan_out_has(draft, clerk, fresh_broker, smtp_server, settings):
    settings.SEND_FANOUT_PAGE_SIZE = 2
    draft.groups.add(make_group(3))
    draft.number, draft.year, draft.series = 4, 2026, "regular"
    draft.store_pdf(PDF)
    draft.save()
    Dispatch.objects.filter(pk=draft.pk).update(status=DispatchStatus.ISSUED)
    draft.refresh_from_db()
    fanout.begin_sending(draft)
    (first_page, last_page), expected = fanout.plan_pages(draft)
    assert sendloop.send_batch(fanout.write_page(draft, *first_page)) == 2
    fanout.finish_fan_out_if_complete(draft, expected)

    draft.refresh_from_db()
    assert draft.status == DispatchStatus.SENDING and draft.fanned_out_at is None
    assert sendloop.send_batch(fanout.write_page(draft, *last_page)) == 1
    fanout.finish_fan_out_if_complete(draft, expected)
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.SENT


@pytest.mark.django_db
def test_fan_out_pages_cover_every_address_once_in_any_order(draft, clerk, settings, fresh_broker):
    from tests.conftest import make_group

    settings.SEND_FANOUT_PAGE_SIZE = 4
    draft.groups.add(make_group(10))
    Dispatch.objects.filter(pk=draft.pk).update(status=DispatchStatus.SENDING, number=1)
    pages, expected = fanout.plan_pages(draft)
    assert expected == 10 and len(pages) == 3 and pages[-1][1] is None

    for after, upto in reversed(pages):
        tasks.fan_out_page(draft.pk, after, upto, expected)
    tasks.fan_out_page(draft.pk, *pages[0], expected)  # a replayed page writes nothing

    assert Delivery.objects.filter(dispatch=draft).count() == 10
    assert Dispatch.objects.get(pk=draft.pk).fanned_out_at is not None


@pytest.mark.django_db
def test_the_fan_out_copies_each_imported_organisations_folded_name_for_the_search(client, draft, auditor):
    rows = [employer(1, name="Công an phường Ba Đình", kind="police"), employer(2, name="UBND phường Hoàn Kiếm")]
    assert import_directory(csv_bytes(rows), "danh-ba.csv").created == 2  # written by COPY on PostgreSQL
    draft.organizations.set(Organization.objects.filter(tax_code__in=[r["tax_code"] for r in rows]))
    Dispatch.objects.filter(pk=draft.pk).update(status=DispatchStatus.ISSUED, number=3)
    draft.refresh_from_db()
    assert fanout.create_deliveries(draft) == 2
    assert sorted(Delivery.objects.values_list("search_name", flat=True)) == [
        "cong an phuong ba dinh", "ubnd phuong hoan kiem"]  # fmt: skip
    Organization.objects.filter(name="Công an phường Ba Đình").update(
        name="Công an phường Giảng Võ", search_name="cong an phuong giang vo"
    )
    client.force_login(auditor)
    page = client.get(reverse("admin:notices_sendrecord_changelist"), {"q": "phuong ba dinh"}).content.decode()
    assert rows[0]["emails"] in page and rows[1]["emails"] not in page


@pytest.mark.django_db
@pytest.mark.parametrize("personalised", [False, True])
def test_an_address_two_organisations_share_is_written_once_or_once_per_organisation_copy(issue_to, personalised):
    dispatch = issue_to(2, personalised=personalised)
    first, second = Organization.objects.order_by("pk")
    OrganizationEmail.objects.create(organization=second, address=first.emails.get().address)

    assert fanout.plan_pages(dispatch)[1] == (3 if personalised else 2)
    written = fanout.write_page(dispatch, "", None)
    assert fanout.write_page(dispatch, "", None) == []  # a replayed page writes nothing twice
    shared = dispatch.deliveries.filter(address=first.emails.get().address)
    if personalised:  # each organisation's copy goes to it: one more delivery, for the second organisation
        assert len(written) == 1 and sorted(shared.values_list("organization_id", flat=True)) == [first.pk, second.pk]
    else:  # everybody's PDF is the same: the address receives it once
        assert written == [] and list(shared.values_list("organization_id", flat=True)) == [first.pk]


@pytest.mark.django_db
def test_a_replayed_page_never_writes_an_address_again_for_another_organisation(issue_to):
    dispatch = issue_to(2)
    first, second = Organization.objects.order_by("pk")
    shared = first.emails.get().address
    second.emails.update(primary=False)
    OrganizationEmail.objects.create(organization=second, address=shared, primary=True)
    first.emails.update(primary=False)  # the directory changed: a new page would now pick the second organisation
    page = ("", shared)

    assert fanout.write_page(dispatch, *page) == []
    assert list(dispatch.deliveries.filter(address=shared).values_list("organization_id", flat=True)) == [first.pk]
