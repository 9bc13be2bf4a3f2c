"""The stewards' correction items in the admin: who may see and act, the printed link, approval, resend."""

from __future__ import annotations

from notices import roles
from notices.models import AuditEvent
from recipients.corrections import CorrectionRequest, CorrectionStatus
from tests.conftest import make_user
from tests.notices.correction_fixtures import BAD, NEW, answered

LIST = "/admin/recipients/correctionitem/"


def act(item, action: str) -> str:
    return f"{LIST}{item.pk}/act/{action}/"


def test_the_steward_sees_the_item_with_its_missed_dispatches(client, steward, item):
    client.force_login(steward)

    listing = client.get(LIST).content.decode()
    page = client.get(f"{LIST}{item.pk}/change/").content.decode()

    assert BAD in listing and item.organization.name in listing
    assert "1 missed dispatch" in page and "07/" in page


def test_a_clerk_may_not_act_on_an_item(client, clerk, item):
    client.force_login(clerk)

    assert client.get(LIST).status_code == 403
    assert client.post(act(item, "print-link")).status_code == 403
    assert not CorrectionRequest.objects.exists()


def test_the_communications_lead_reads_items_but_may_not_act(client, item):
    client.force_login(make_user("truyenthong", roles.COMMUNICATIONS_LEAD))

    assert client.get(f"{LIST}{item.pk}/change/").status_code == 200
    assert client.post(act(item, "print-link")).status_code == 403


def test_an_action_must_be_posted(client, steward, item):
    client.force_login(steward)

    assert client.get(act(item, "print-link")).status_code == 405


def test_a_printed_link_is_shown_once_and_works(client, steward, item):
    client.force_login(steward)

    page = client.post(act(item, "print-link")).content.decode()

    token = page.split("/sua-dia-chi/")[1].split("/")[0]
    assert CorrectionRequest.objects.of_token(token).item == item
    assert client.get(f"/sua-dia-chi/{token}/").status_code == 200


def test_the_steward_approves_then_resends_in_two_presses(client, steward, item, fresh_broker):
    answer = answered(item, steward)
    client.force_login(steward)

    client.post(act(item, "approve"), {"request": answer.pk})
    client.post(act(item, "resend"))

    item.refresh_from_db()
    assert item.status == CorrectionStatus.CORRECTED and item.corrected_address == NEW and item.resent_at
    assert item.organization.emails.get().address == NEW
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="correction_").order_by("seq")] == [
        "correction_approved",
        "correction_resent",
    ]


def test_an_answer_of_another_item_cannot_be_approved_through_this_one(client, steward, item):
    answer = answered(item, steward)
    client.force_login(steward)

    response = client.post(f"{LIST}{item.pk + 1000}/act/approve/", {"request": answer.pk})

    assert response.status_code == 404
    answer.refresh_from_db()
    assert answer.decided_at is None
