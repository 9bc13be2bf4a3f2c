"""The workflow buttons of the dispatch page (notices/admin/workflow.py): offered to who may use them, confirmed."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from notices import roles
from notices.models import AuditEvent, Delivery, Dispatch, DispatchStatus, RegisterCounter
from recipients.models import RecipientGroup, Suppression, SuppressionReason
from tests.conftest import make_group, make_user
from tests.notices import workflow_fixtures
from tests.notices.workflow_fixtures import AFTER, ALLOWED, BEFORE, ROLES, actor_for, prepared

pytestmark = pytest.mark.django_db
draft, issued = workflow_fixtures.draft, workflow_fixtures.issued  # the workflow's fixtures, in this module only


@pytest.mark.parametrize("action", list(ALLOWED))
@pytest.mark.parametrize("role", ROLES)
def test_admin_buttons_follow_the_permission_matrix(client, draft, role, action):
    actor = actor_for(role)
    dispatch = prepared(draft, action, actor)
    client.force_login(actor)
    page = client.get(reverse("admin:notices_dispatch_change", args=[dispatch.pk]))
    url = reverse("admin:notices_dispatch_workflow", args=[dispatch.pk, action])
    assert page.status_code == 200
    assert (url in page.content.decode()) == (role in ALLOWED[action])

    response = client.post(url, {"reason": "Lý do kiểm thử."}, follow=True)
    dispatch.refresh_from_db()
    assert response.status_code == 200
    if role in ALLOWED[action]:
        assert dispatch.status == AFTER[action]
    else:
        assert dispatch.status == BEFORE[action]
        assert "Your role does not allow this action." in response.content.decode()


ADMIN_PAGES = {
    "add dispatch": (lambda d: reverse("admin:notices_dispatch_add"), {roles.DRAFTER, roles.ADMINISTRATOR}),
    "audit trail": (lambda d: reverse("admin:notices_auditevent_changelist"), {roles.AUDITOR, roles.ADMINISTRATOR}),
    "register": (lambda d: reverse("admin:notices_outgoingregister_changelist"), set(ROLES)),
    "send history": (lambda d: reverse("admin:notices_sendrecord_changelist"), set(ROLES)),
    "export register": (
        lambda d: reverse("admin:notices_outgoingregister_export", args=["csv"]),
        {roles.CLERK, roles.AUDITOR, roles.ADMINISTRATOR},
    ),
    "export send history": (
        lambda d: reverse("admin:notices_sendrecord_export", args=["xlsx"]),
        {roles.CLERK, roles.AUDITOR, roles.ADMINISTRATOR},
    ),
}


@pytest.mark.parametrize("page", list(ADMIN_PAGES))
@pytest.mark.parametrize("role", ROLES)
def test_admin_pages_follow_the_permission_matrix(client, draft, role, page):
    url, allowed = ADMIN_PAGES[page]
    client.force_login(actor_for(role))
    response = client.get(url(draft))
    assert response.status_code == (200 if role in allowed else 403)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_drafter_or_an_administrator_edits_a_draft(client, draft, role):
    actor = actor_for(role)
    client.force_login(actor)
    own = draft.pk if role != roles.DRAFTER else Dispatch.objects.create(
        issuer=draft.issuer, drafting_unit=draft.drafting_unit, signer=draft.signer, subject="s", body="b", created_by=actor
    ).pk  # fmt: skip
    form = client.get(reverse("admin:notices_dispatch_change", args=[own]))
    editable = role in (roles.DRAFTER, roles.ADMINISTRATOR)
    assert ('name="subject"' in form.content.decode()) == editable


def test_an_issued_dispatch_cannot_be_changed_through_the_admin(client, issued, issuer):
    admin_user = make_user("quantri", roles.ADMINISTRATOR)
    client.force_login(admin_user)
    url = reverse("admin:notices_dispatch_change", args=[issued.pk])
    form = client.get(url)
    assert 'name="subject"' not in form.content.decode()
    response = client.post(url, {"subject": "đổi", "body": "x", "issuer": issuer.pk})
    assert response.status_code == 403
    issued.refresh_from_db()
    assert issued.subject != "đổi"
    assert AuditEvent.objects.for_object(issued).filter(action="refused:edit", actor=admin_user).exists()
    assert client.post(reverse("admin:notices_dispatch_delete", args=[issued.pk]), {"post": "yes"}).status_code == 403


def test_csrf_is_enforced_on_workflow_buttons(draft, drafter):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(drafter)
    response = client.post(reverse("admin:notices_dispatch_workflow", args=[draft.pk, "submit"]))
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.DRAFT


def test_return_and_recall_first_ask_for_the_comment_or_reason(client, draft, drafter, approver):
    draft.submit(drafter)
    client.force_login(approver)
    form = client.get(reverse("admin:notices_dispatch_workflow", args=[draft.pk, "return"]))
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    client.post(reverse("admin:notices_dispatch_workflow", args=[draft.pk, "return"]), {"reason": "Thiếu căn cứ."})
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.DRAFT and draft.return_comment == "Thiếu căn cứ."
    assert client.get(reverse("admin:notices_dispatch_workflow", args=[draft.pk, "approve"])).status_code == 405


def test_the_issue_button_says_why_a_dispatch_with_no_recipient_is_refused(client, approved, clerk):
    approved.groups.clear()
    client.force_login(clerk)
    response = client.post(reverse("admin:notices_dispatch_workflow", args=[approved.pk, "issue"]), follow=True)
    assert "This dispatch has no recipient" in response.content.decode()
    approved.refresh_from_db()
    assert approved.number is None


def test_issue_first_shows_the_number_the_reach_the_suppressed_and_the_empty_groups(client, approved, clerk):
    RegisterCounter.objects.create(issuer=approved.issuer, year=timezone.localdate().year, series="regular",
                                   last_number=2)  # fmt: skip
    approved.groups.set([make_group(3, name="Quận"), RecipientGroup.objects.create(name="Nhóm chưa có địa chỉ")])
    Suppression.objects.create(address="office001@bhxh-hanoi.example.vn", reason=SuppressionReason.HARD_BOUNCE)
    client.force_login(clerk)
    url = reverse("admin:notices_dispatch_workflow", args=[approved.pk, "issue"])
    change_page = client.get(reverse("admin:notices_dispatch_change", args=[approved.pk])).content.decode()
    assert f'href="{url}"' in change_page  # a link to the confirmation, not a button that issues at once

    page = client.get(url)
    text = " ".join(page.content.decode().split())
    assert page.status_code == 200
    assert '<strong class="next-notation">03/BHXH-QLT</strong>' in text
    assert '<strong class="organization-count">3</strong> organisations' in text
    assert '<strong class="address-count">3</strong> addresses' in text
    assert '<strong class="suppressed-count">1</strong> address is on the suppression list' in text
    assert "The group “Nhóm chưa có địa chỉ” reaches no email address today." in text
    assert "The group “Quận”" not in text
    approved.refresh_from_db()
    assert approved.number is None and approved.status == DispatchStatus.APPROVED  # looking issues nothing


def test_the_confirmation_of_a_dispatch_to_nobody_gives_the_reason_and_no_button(client, approved, clerk):
    approved.groups.clear()
    client.force_login(clerk)
    page = client.get(reverse("admin:notices_dispatch_workflow", args=[approved.pk, "issue"])).content.decode()
    assert "This dispatch has no recipient" in page and 'class="default"' not in page


def test_a_drafter_is_not_offered_the_bulk_issue_actions(client, draft, drafter, clerk):
    client.force_login(drafter)
    page = client.get(reverse("admin:notices_dispatch_changelist")).content.decode()
    assert 'value="issue_and_send"' not in page and 'value="register_secret"' not in page
    client.force_login(clerk)
    page = client.get(reverse("admin:notices_dispatch_changelist")).content.decode()
    assert 'value="issue_and_send"' in page and 'value="register_secret"' in page


def test_nobody_is_offered_approve_or_return_on_their_own_dispatch(client, draft):
    both = make_user("both", roles.DRAFTER)
    both.groups.add(roles.ensure_roles()[roles.APPROVER])
    Dispatch.objects.filter(pk=draft.pk).update(created_by=both, status=DispatchStatus.SUBMITTED)
    client.force_login(both)
    page = client.get(reverse("admin:notices_dispatch_change", args=[draft.pk])).content.decode()
    for action in ("approve", "return"):
        assert reverse("admin:notices_dispatch_workflow", args=[draft.pk, action]) not in page
    other = make_user("pheduyet2", roles.APPROVER)
    client.force_login(other)
    page = client.get(reverse("admin:notices_dispatch_change", args=[draft.pk])).content.decode()
    assert reverse("admin:notices_dispatch_workflow", args=[draft.pk, "approve"]) in page


def test_another_drafter_is_not_offered_submit_on_somebody_elses_draft(client, draft):
    colleague = make_user("dongnghiep", roles.DRAFTER)
    client.force_login(colleague)
    page = client.get(reverse("admin:notices_dispatch_change", args=[draft.pk])).content.decode()
    assert reverse("admin:notices_dispatch_workflow", args=[draft.pk, "submit"]) not in page


def test_a_secret_dispatch_is_issued_by_a_button_that_says_it_is_not_emailed(
    client, approved, clerk, django_capture_on_commit_callbacks
):
    Dispatch.objects.filter(pk=approved.pk).update(secrecy="mat")
    client.force_login(clerk)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    page = client.get(reverse("admin:notices_dispatch_change", args=[approved.pk])).content.decode()
    assert "Phát hành (không gửi email)" in page and "Phát hành và gửi" not in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = reverse("admin:notices_dispatch_workflow", args=[approved.pk, "issue"])
    confirmation = client.get(url).content.decode()
    assert "never emailed" in confirmation and "Issue and send" not in confirmation
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url, follow=True)
    approved.refresh_from_db()
    assert (approved.series, approved.number) == ("secret", 1) and callbacks == []
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message == "Registered 01/BHXH-QLT in the secret series; it is not emailed."
    assert not Delivery.objects.exists()
