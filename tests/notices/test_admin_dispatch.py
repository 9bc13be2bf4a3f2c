from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from notices import issuing, roles
from notices.models import Delivery, Dispatch, DispatchCopy
from tests.conftest import approve, make_user
from tests.notices import workflow_fixtures
from tests.notices.delivery_fixtures import read_csv

issued = workflow_fixtures.issued  # the workflow's fixtures, in this module only


def test_an_issued_dispatch_shows_its_body_as_formatted_text_not_html_source(
    client, draft, clerk, auditor, monkeypatch
):
    issuing.issue(approve(draft), clerk)
    Dispatch.objects.filter(pk=draft.pk).update(body=draft.body + '<script>alert("x")</script>')  # as if tampered
    client.force_login(auditor)
    page = client.get(f"/admin/notices/dispatch/{draft.pk}/change/").content.decode()
    assert "<p>Bảo hiểm xã hội thành phố Hà Nội đề nghị Quý cơ quan phối hợp thực hiện./.</p>" in page
    assert "&lt;p&gt;" not in page and 'alert("x")' not in page


def test_the_dispatch_page_names_its_approver_and_issuer_in_full(client, sent, approver, clerk, auditor):
    approver.first_name, approver.last_name = "Duyệt", "Trần Văn"
    approver.save()
    Dispatch.objects.filter(pk=sent.pk).update(approved_by=approver, issued_by=clerk)  # clerk has no name: user name
    client.force_login(auditor)
    page = client.get(reverse("admin:notices_dispatch_change", args=[sent.pk])).content.decode()
    assert '<div class="readonly">Trần Văn Duyệt</div>' in page and '<div class="readonly">vanthu</div>' in page
    assert ">pheduyet<" not in page


def test_the_dispatch_page_names_people_by_their_full_name(client, issued, clerk):
    approver = make_user("pheduyet", roles.APPROVER)
    approver.last_name, approver.first_name = "Trần Văn", "Duyệt"  # Django: first_name is the given name
    approver.save()
    clerk.last_name, clerk.first_name = "Lê Thị", "Văn"
    clerk.save()
    Dispatch.objects.filter(pk=issued.pk).update(approved_by=approver, approved_at=timezone.now())
    client.force_login(clerk)
    page = client.get(reverse("admin:notices_dispatch_change", args=[issued.pk])).content.decode()
    assert "Trần Văn Duyệt" in page and "Lê Thị Văn" in page
    assert ">pheduyet<" not in page and ">vanthu<" not in page


def test_a_personalised_dispatch_is_one_register_entry_counting_its_signed_copies(client, sent, auditor):
    Dispatch.objects.filter(pk=sent.pk).update(personalised=True, addressees="{{ ten_don_vi }}")
    organizations = [d.organization for d in Delivery.objects.filter(dispatch=sent).order_by("pk")]
    Delivery.objects.create(dispatch=sent, organization=organizations[0], organization_name=organizations[0].name,
                            address="second-address@bhxh-hanoi.example.vn", status="delivered")  # fmt: skip
    for i, org in enumerate(organizations[:2]):  # the third organisation's copy is still being made
        DispatchCopy.objects.store(sent, org, "a", b"%PDF-1", f"code-{i}", f"AAAA-BBBB-C{i + 2}")
    client.force_login(auditor)

    page = client.get(reverse("admin:notices_outgoingregister_changelist")).content.decode()
    assert page.count("05/BHXH-QLT") == 1 and '<td class="field-copies">2</td>' in page
    rows = read_csv(client.get(reverse("admin:notices_outgoingregister_export", args=["csv"])))
    assert len(rows) == 2 and rows[0][6] == "copies" and rows[1][6] == "2"  # two copies, not four emails
    assert rows[1][10] == "each copy its own (see the send history)"  # the master PDF was sent to nobody
    assert rows[1][4] == "each organisation targeted, with its own copy" and "ten_don_vi" not in page
