from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from notices import issuing, roles
from notices.models import AuditEvent, Delivery, Dispatch, DispatchStatus, RegisterCounter
from notices.models.workflow import WorkflowError
from recipients.models import RecipientGroup, Suppression, SuppressionReason
from tests.conftest import make_group, make_user, with_recipient

pytestmark = pytest.mark.django_db

ROLES = [roles.DRAFTER, roles.APPROVER, roles.CLERK, roles.AUDITOR, roles.ADMINISTRATOR]
# Which roles may perform each workflow action (on a dispatch drafted by somebody else, except submit).
ALLOWED = {
    "submit": {roles.DRAFTER, roles.ADMINISTRATOR},
    "approve": {roles.APPROVER, roles.ADMINISTRATOR},
    "return": {roles.APPROVER, roles.ADMINISTRATOR},
    "issue": {roles.CLERK, roles.ADMINISTRATOR},
    "recall": {roles.CLERK, roles.ADMINISTRATOR},
    "replace": {roles.CLERK, roles.ADMINISTRATOR},
}
# The status each action needs, and the status it leads to.
BEFORE = {"submit": "draft", "approve": "submitted", "return": "submitted", "issue": "approved", "recall": "sent",
          "replace": "sent"}  # fmt: skip
AFTER = {"submit": "submitted", "approve": "approved", "return": "draft", "issue": "issued", "recall": "recalled",
         "replace": "sent"}  # fmt: skip


@pytest.fixture
def draft(draft) -> Dispatch:
    """The shared draft, addressed to one organisation (a dispatch to nobody cannot be submitted)."""
    return with_recipient(draft)


def actor_for(role: str):
    return make_user(f"actor-{ROLES.index(role)}", role)


def prepared(draft: Dispatch, action: str, actor) -> Dispatch:
    """Put the draft in the state the action needs; a drafter submits their own draft."""
    changes = {"status": BEFORE[action]}
    if action == "submit":
        changes["created_by"] = actor
    if BEFORE[action] == "sent":
        changes.update(number=7, year=2026, series="regular", issued_at=timezone.now())
    Dispatch.objects.filter(pk=draft.pk).update(**changes)
    draft.refresh_from_db()
    return draft


def perform(dispatch: Dispatch, action: str, user):
    if action == "submit":
        return dispatch.submit(user)
    if action == "approve":
        return dispatch.approve(user)
    if action == "return":
        return dispatch.return_to_draft(user, "Sửa lại trích yếu.")
    if action == "issue":
        return issuing.issue(dispatch, user)
    if action == "recall":
        return issuing.recall(dispatch, user, "Ban hành nhầm.")
    return dispatch.start_replacement(user)


@pytest.mark.parametrize("action", list(ALLOWED))
@pytest.mark.parametrize("role", ROLES)
def test_model_methods_follow_the_permission_matrix(draft, role, action):
    actor = actor_for(role)
    dispatch = prepared(draft, action, actor)
    if role in ALLOWED[action]:
        perform(dispatch, action, actor)
        dispatch.refresh_from_db()
        assert dispatch.status == AFTER[action]
        assert AuditEvent.objects.for_object(dispatch).filter(action=action if action != "replace" else
                                                              "start_replacement", actor=actor).exists()  # fmt: skip
    else:
        with pytest.raises(WorkflowError):
            perform(dispatch, action, actor)
        dispatch.refresh_from_db()
        assert dispatch.status == BEFORE[action]
        assert AuditEvent.objects.for_object(dispatch).filter(action=f"refused:{action}", actor=actor).exists()


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


def test_nobody_approves_their_own_draft(draft):
    both = make_user("both", roles.DRAFTER)
    both.groups.add(roles.ensure_roles()[roles.APPROVER])
    Dispatch.objects.filter(pk=draft.pk).update(created_by=both)
    draft.refresh_from_db()
    draft.submit(both)
    with pytest.raises(WorkflowError, match="you drafted"):
        draft.approve(both)
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.SUBMITTED
    assert AuditEvent.objects.for_object(draft).filter(action="refused:approve").exists()


def test_returning_needs_a_comment_and_keeps_it_for_the_drafter(draft, drafter, approver):
    draft.submit(drafter)
    with pytest.raises(WorkflowError, match="^Say what must change: a comment is required to return a dispatch.$"):
        draft.return_to_draft(approver, "  ")
    draft.return_to_draft(approver, "Bổ sung căn cứ pháp lý.")
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.DRAFT and draft.return_comment == "Bổ sung căn cứ pháp lý."
    event = AuditEvent.objects.for_object(draft).get(action="return")
    assert event.details["comment"] == "Bổ sung căn cứ pháp lý." and event.actor == approver


def test_a_stale_second_click_is_refused_by_the_conditional_update(draft, drafter, approver):
    draft.submit(drafter)
    stale = Dispatch.objects.get(pk=draft.pk)
    draft.approve(approver)
    with pytest.raises(WorkflowError, match="no longer applies"):
        stale.approve(approver)
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.APPROVED


def test_a_draft_cannot_be_issued_without_approval(draft, clerk):
    with pytest.raises(WorkflowError, match="Only an approved dispatch"):
        issuing.issue(draft, clerk)
    draft.refresh_from_db()
    assert draft.number is None and draft.status == DispatchStatus.DRAFT


@pytest.fixture
def issued(approved, clerk, django_capture_on_commit_callbacks):
    approved.groups.add(make_group(2))
    issuing.issue(approved, clerk)
    approved.refresh_from_db()
    return approved


def test_an_issued_dispatch_refuses_content_changes_and_audits_them(issued, clerk):
    issued.subject = "V/v khác"
    issued._actor = clerk
    with pytest.raises(WorkflowError, match="subject"):
        issued.save()
    issued.refresh_from_db()
    assert issued.subject != "V/v khác"
    assert AuditEvent.objects.for_object(issued).filter(action="refused:edit", actor=clerk).exists()


def test_an_issued_dispatch_refuses_new_recipients_and_deletion(issued):
    other = make_group(1, name="Khác")
    with pytest.raises(WorkflowError, match="recipients"), transaction.atomic():
        issued.groups.add(other)
    with pytest.raises(WorkflowError):
        issued.delete()
    assert Dispatch.objects.filter(pk=issued.pk).exists()


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


def test_issue_records_the_notation_and_pdf_hash(issued, clerk):
    event = AuditEvent.objects.for_object(issued).get(action="issue")
    assert event.actor == clerk
    assert event.details == {"notation": issued.notation, "pdf_sha256": issued.pdf_sha256}


def test_a_replacement_is_a_linked_draft_and_the_old_one_shows_replaced_by(issued, clerk):
    replacement = issued.start_replacement(clerk)
    assert replacement.status == DispatchStatus.DRAFT and replacement.replaces == issued
    assert replacement.subject == issued.subject and set(replacement.groups.all()) == set(issued.groups.all())
    assert replacement.created_by == issued.created_by
    assert issued.replaced_by is None
    Dispatch.objects.filter(pk=replacement.pk).update(status="issued", number=2, year=2026, series="regular")
    assert issued.replaced_by == replacement


def test_csrf_is_enforced_on_workflow_buttons(draft, drafter):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(drafter)
    response = client.post(reverse("admin:notices_dispatch_workflow", args=[draft.pk, "submit"]))
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.DRAFT


def test_an_issued_dispatch_can_still_be_saved_unchanged_or_with_bookkeeping_fields(issued):
    issued.save()
    issued.refresh_from_db()
    issued.short_code = "ABC123"
    issued.save(update_fields=["short_code"])
    issued.refresh_from_db()
    assert issued.short_code == "ABC123"


def test_return_and_recall_first_ask_for_the_comment_or_reason(client, draft, drafter, approver):
    draft.submit(drafter)
    client.force_login(approver)
    form = client.get(reverse("admin:notices_dispatch_workflow", args=[draft.pk, "return"]))
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    client.post(reverse("admin:notices_dispatch_workflow", args=[draft.pk, "return"]), {"reason": "Thiếu căn cứ."})
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.DRAFT and draft.return_comment == "Thiếu căn cứ."
    assert client.get(reverse("admin:notices_dispatch_workflow", args=[draft.pk, "approve"])).status_code == 405


# --- The checks a mutant could remove ------------------------------------------------------------------------
def test_an_approver_cannot_return_a_dispatch_they_drafted(draft):
    both = make_user("both", roles.DRAFTER)
    both.groups.add(roles.ensure_roles()[roles.APPROVER])
    Dispatch.objects.filter(pk=draft.pk).update(created_by=both, status=DispatchStatus.SUBMITTED)
    draft.refresh_from_db()
    with pytest.raises(WorkflowError, match="you drafted"):
        draft.return_to_draft(both, "Tự trả lại.")
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.SUBMITTED and draft.return_comment == ""
    assert AuditEvent.objects.for_object(draft).filter(action="refused:return", actor=both).exists()


def test_another_drafter_cannot_submit_somebody_elses_draft(draft):
    colleague = make_user("dongnghiep", roles.DRAFTER)
    with pytest.raises(WorkflowError, match="Only the drafter"):
        draft.submit(colleague)
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.DRAFT
    assert AuditEvent.objects.for_object(draft).filter(action="refused:submit", actor=colleague).exists()


# --- A dispatch to nobody -------------------------------------------------------------------------------------
def test_a_dispatch_with_no_recipient_is_refused_at_submit_with_the_reason(draft, drafter):
    draft.groups.clear()
    with pytest.raises(WorkflowError, match="no recipient"):
        draft.submit(drafter)
    draft.refresh_from_db()
    assert draft.status == DispatchStatus.DRAFT
    assert AuditEvent.objects.for_object(draft).filter(action="refused:submit").exists()


def test_a_dispatch_with_no_recipient_is_refused_at_issue_and_uses_no_number(approved, clerk):
    approved.groups.clear()
    with pytest.raises(WorkflowError, match="no recipient"):
        issuing.issue(approved, clerk)
    approved.refresh_from_db()
    assert approved.number is None and approved.status == DispatchStatus.APPROVED
    assert not RegisterCounter.objects.exists()


def test_a_dispatch_whose_groups_reach_no_address_is_refused_at_issue(approved, clerk):
    approved.groups.set([RecipientGroup.objects.create(name="Nhóm rỗng")])
    with pytest.raises(WorkflowError, match="no email address"):
        issuing.issue(approved, clerk)
    approved.refresh_from_db()
    assert approved.number is None and not RegisterCounter.objects.exists()


def test_the_issue_button_says_why_a_dispatch_with_no_recipient_is_refused(client, approved, clerk):
    approved.groups.clear()
    client.force_login(clerk)
    response = client.post(reverse("admin:notices_dispatch_workflow", args=[approved.pk, "issue"]), follow=True)
    assert "This dispatch has no recipient" in response.content.decode()
    approved.refresh_from_db()
    assert approved.number is None


# --- The confirmation before "Issue and send" -----------------------------------------------------------------
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


# --- Nobody sees an action they may not use -------------------------------------------------------------------
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


# --- Titles, names and the secret dispatch's words ------------------------------------------------------------
def test_an_approved_dispatch_is_no_longer_titled_draft(approved):
    assert str(approved) == f"Approved: {approved.subject}"
    with translation.override("vi"):
        assert str(approved).startswith("Đã phê duyệt: ") and "Dự thảo" not in str(approved)
        submitted = Dispatch(subject="x", status=DispatchStatus.SUBMITTED)
        assert str(submitted) == "Dự thảo: x"


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


def test_each_step_stores_who_and_when_moves_only_its_dispatch_and_audits_from_and_to(draft, drafter, approver):
    other = with_recipient(Dispatch.objects.create(issuer=draft.issuer, drafting_unit=draft.drafting_unit,
                                                   signer=draft.signer, subject="thứ hai", created_by=drafter))  # fmt: skip
    other.submit(drafter)
    draft.submit(drafter)
    assert draft.submitted_at is not None
    draft.approve(approver)

    assert draft.approved_by == approver and draft.approved_at is not None
    assert draft.updated_at >= draft.approved_at > draft.submitted_at
    assert Dispatch.objects.get(pk=other.pk).status == DispatchStatus.SUBMITTED, "approving one moves no other"
    events = AuditEvent.objects.for_object(draft).order_by("seq")
    assert [(e.action, e.details) for e in events if e.action in ("submit", "approve")] == [
        ("submit", {"from": "draft", "to": "submitted"}),
        ("approve", {"from": "submitted", "to": "approved"}),
    ]


def test_returning_an_approved_dispatch_withdraws_its_approval(draft, drafter, approver):
    draft.submit(drafter)
    draft.approve(approver)
    draft.return_to_draft(approver, "Sửa lại trích yếu.")
    draft.refresh_from_db()
    assert (draft.status, draft.approved_at, draft.approved_by) == (DispatchStatus.DRAFT, None, None)


def test_a_recall_stores_who_when_and_why_and_needs_a_reason(issued, clerk):
    with pytest.raises(WorkflowError, match="^A reason is required to recall a dispatch.$"):
        issuing.recall(issued, clerk, "  ")
    before = issued.status
    issuing.recall(issued, clerk, "  Ban hành nhầm. ")
    issued.refresh_from_db()
    assert (issued.status, issued.recalled_by, issued.recall_reason) == ("recalled", clerk, "Ban hành nhầm.")
    assert issued.recalled_at is not None
    event = AuditEvent.objects.for_object(issued).get(action="recall")
    assert event.details == {"from": before, "to": "recalled", "reason": "Ban hành nhầm."}
