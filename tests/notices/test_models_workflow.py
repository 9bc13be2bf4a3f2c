"""The dispatch workflow (notices/models/workflow.py): the permission matrix, its guards, what is frozen once issued."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from notices import issuing, roles
from notices.models import AuditEvent, Dispatch, DispatchStatus, RegisterCounter
from notices.models.workflow import WorkflowError
from recipients.models import RecipientGroup
from tests.conftest import make_group, make_user, with_recipient
from tests.notices import workflow_fixtures
from tests.notices.workflow_fixtures import AFTER, ALLOWED, BEFORE, ROLES, actor_for, prepared

pytestmark = pytest.mark.django_db
draft, issued = workflow_fixtures.draft, workflow_fixtures.issued  # the workflow's fixtures, in this module only


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


def test_an_issued_dispatch_can_still_be_saved_unchanged_or_with_bookkeeping_fields(issued):
    issued.save()
    issued.refresh_from_db()
    issued.short_code = "ABC123"
    issued.save(update_fields=["short_code"])
    issued.refresh_from_db()
    assert issued.short_code == "ABC123"


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


# --- Titles --------------------------------------------------------------------------------------------------
def test_an_approved_dispatch_is_no_longer_titled_draft(approved):
    assert str(approved) == f"Approved: {approved.subject}"
    with translation.override("vi"):
        assert str(approved).startswith("Đã phê duyệt: ") and "Dự thảo" not in str(approved)
        submitted = Dispatch(subject="x", status=DispatchStatus.SUBMITTED)
        assert str(submitted) == "Dự thảo: x"


@pytest.mark.parametrize("personalised", [True, False])
def test_an_issued_dispatch_refuses_to_become_or_stop_being_personalised(issued, clerk, personalised):
    Dispatch.objects.filter(pk=issued.pk).update(personalised=not personalised)
    issued.refresh_from_db()
    issued.personalised = personalised
    issued._actor = clerk
    with pytest.raises(WorkflowError, match="personalised"):
        issued.save()
    issued.refresh_from_db()
    assert issued.personalised is not personalised
    assert AuditEvent.objects.for_object(issued).filter(action="refused:edit", actor=clerk).exists()


def test_an_approved_personalised_dispatch_cannot_be_made_plain_through_the_admin(client, approved, issuer):
    Dispatch.objects.filter(pk=approved.pk).update(personalised=True)
    admin_user = make_user("quantri", roles.ADMINISTRATOR)
    client.force_login(admin_user)
    url = reverse("admin:notices_dispatch_change", args=[approved.pk])
    assert 'name="personalised"' not in client.get(url).content.decode()
    assert client.post(url, {"subject": approved.subject, "body": "x", "issuer": issuer.pk}).status_code == 403
    assert Dispatch.objects.get(pk=approved.pk).personalised


def test_the_replacement_of_a_personalised_dispatch_is_personalised(issued, clerk):
    Dispatch.objects.filter(pk=issued.pk).update(personalised=True)
    issued.refresh_from_db()
    replacement = issued.start_replacement(clerk)
    assert replacement.personalised
    assert "no merge data file" in replacement.merge_refusal()  # it asks for its own data before submission


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
