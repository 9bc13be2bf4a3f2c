"""Drafts through the API, and the workflow actions a key's scope allows (api/views.py: Drafts, Draft, Submit,
Approve, Issue): the same model methods, transition table and issuing as the admin."""

from __future__ import annotations

import pytest

from api.models import KeyDispatch, Scope
from notices.models import AuditEvent, Dispatch, DispatchStatus, MergeFile
from notices.sanitizing import sanitize_body
from tests.api.conftest import b64, pdf_bytes
from tests.conftest import approve
from tests.notices.merge_fixtures import csv_text

UNSAFE = (
    '<p onclick="steal()">Kính gửi <a href="javascript:alert(1)">đây</a></p><script>alert(1)</script><h1>Đề mục</h1>'
)


def create(client, payload: dict, **changes):
    return client.post_json("/api/v1/drafts/", {**payload, **changes})


def test_it_creates_a_draft_with_the_body_sanitised_exactly_as_in_the_admin(drafting, draft_body, drafter, offices):
    key, client = drafting
    response = create(client, draft_body, body=UNSAFE, urgency="khan", addressees=["UBND thành phố Hà Nội"])
    assert response.status_code == 201, response.json()
    dispatch = Dispatch.objects.get(pk=response.json()["id"])
    assert dispatch.body == sanitize_body(UNSAFE) and "script" not in dispatch.body and "onclick" not in dispatch.body
    assert (dispatch.status, dispatch.created_by, dispatch.urgency) == (DispatchStatus.DRAFT, drafter, "khan")
    assert list(dispatch.groups.all()) == [offices]
    assert dispatch.addressees == "UBND thành phố Hà Nội"
    assert KeyDispatch.objects.get(dispatch=dispatch).key == key
    event = AuditEvent.objects.get(action="api:create", object_id=str(dispatch.pk))
    assert (event.actor_name, event.details["api_key"]) == ("soanthao", key.name)
    assert response.json()["status"] == "draft" and response.json()["counts"] == {}


def test_it_targets_organisations_by_code(drafting, draft_body, employers):
    _key, client = drafting
    response = create(client, draft_body, groups=[], organizations=["tb00001", "TB00002"])
    assert response.status_code == 201
    assert set(Dispatch.objects.get(pk=response.json()["id"]).organizations.all()) == set(employers[:2])


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"groups": ["Không có nhóm này"]}, "groups", "Không có các nhóm: Không có nhóm này."),
    ({"organizations": ["XX999"]}, "organizations", "Không xác định được đúng một tổ chức cho các mã: XX999."),
    ({"drafting_unit": "ZZZ"}, "drafting_unit", "Không có đơn vị soạn thảo nào có chữ viết tắt “ZZZ”."),
    ({"signer": 999999}, "signer", "Không có người ký đang hoạt động nào có mã này."),
    ({"subject": "hai\ndòng"}, "subject", "Trích yếu phải viết trên một dòng, không chứa ký tự điều khiển."),
    ({"urgency": "rất gấp"}, "urgency", None),
])  # fmt: skip
def test_it_refuses_an_invalid_draft_field_by_field_and_writes_nothing(drafting, draft_body, changes, field, message):
    _key, client = drafting
    response = create(client, draft_body, **changes)
    assert response.status_code == 400
    answer = response.json()
    assert (answer["code"], answer["message"]) == ("invalid", "Một số trường không hợp lệ.")
    assert list(answer["fields"]) == [field]
    if message:
        assert answer["fields"][field] == [message]
    assert not Dispatch.objects.exists()


def test_it_adds_appendices_in_order(drafting, draft_body):
    _key, client = drafting
    appendices = [{"title": "Danh sách đơn vị nợ", "content_base64": b64(pdf_bytes("Một"))},
                  {"title": "Biểu mẫu", "content_base64": b64(pdf_bytes("Hai"))}]  # fmt: skip
    response = create(client, draft_body, appendices=appendices)
    assert response.status_code == 201, response.json()
    dispatch = Dispatch.objects.get(pk=response.json()["id"])
    assert [(a.position, a.title) for a in dispatch.appendices.all()] == [(1, "Danh sách đơn vị nợ"), (2, "Biểu mẫu")]


def test_it_refuses_an_appendix_that_is_not_a_pdf_and_writes_nothing(drafting, draft_body):
    _key, client = drafting
    response = create(client, draft_body, appendices=[{"title": "Giả", "content_base64": b64(b"MZ not a pdf")}])
    assert response.status_code == 400
    assert response.json()["code"] == "appendix_invalid"
    assert not Dispatch.objects.exists()


def test_it_refuses_a_file_that_is_not_base64(drafting, draft_body):
    _key, client = drafting
    response = create(client, draft_body, appendices=[{"title": "Giả", "content_base64": "%%%"}])
    assert response.json()["fields"] == {"appendices": {"0": {"content_base64": ["Không phải dữ liệu base64 hợp lệ."]}}}


def test_it_creates_a_personalised_draft_with_its_merge_data(drafting, draft_body, employers):
    _key, client = drafting
    rows = [[org.bhxh_code, org.name, 1_500_000, "01/2026"] for org in employers]
    merge = {"file_name": "no-thang-3.csv", "match_key": "bhxh_code", "content_base64": b64(csv_text(rows).encode())}
    response = create(client, draft_body, groups=[], organizations=[o.bhxh_code for o in employers],
                      body="<p>Số nợ {{ so_tien_no|money }}</p>", merge_data=merge)  # fmt: skip
    assert response.status_code == 201, response.json()
    dispatch = Dispatch.objects.get(pk=response.json()["id"])
    assert dispatch.personalised
    merge_file = MergeFile.objects.get(dispatch=dispatch)
    assert (merge_file.row_count, merge_file.problems) == (3, [])


def test_it_refuses_merge_data_it_cannot_read(drafting, draft_body):
    _key, client = drafting
    merge = {"file_name": "x.xlsx", "match_key": "bhxh_code", "content_base64": b64(b"not a workbook")}
    response = create(client, draft_body, merge_data=merge)
    assert response.status_code == 400 and response.json()["code"] == "merge_data_invalid"
    assert not Dispatch.objects.exists()


def test_a_key_whose_account_may_not_draft_is_refused(make_client, auditor, draft_body):
    _key, client = make_client(auditor, [Scope.DRAFTS])
    response = create(client, draft_body)
    assert (response.status_code, response.json()["code"]) == (403, "role_forbids")


def test_it_refuses_a_body_that_is_not_json(drafting):
    _key, client = drafting
    response = client.post("/api/v1/drafts/", "{not json", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "malformed_json")


def test_it_changes_a_draft_then_refuses_once_submitted(drafting, draft_body):
    _key, client = drafting
    pk = create(client, draft_body).json()["id"]
    changed = client.patch_json(f"/api/v1/drafts/{pk}/", {"subject": "đôn đốc thu nợ quý II", "body": UNSAFE})
    assert changed.status_code == 200 and changed.json()["subject"] == "đôn đốc thu nợ quý II"
    assert Dispatch.objects.get(pk=pk).body == sanitize_body(UNSAFE)
    assert AuditEvent.objects.get(action="api:change").details["fields"] == ["body", "subject"]
    assert client.post_json(f"/api/v1/drafts/{pk}/submit/").json()["status"] == "submitted"
    refused = client.patch_json(f"/api/v1/drafts/{pk}/", {"subject": "muộn"})
    assert (refused.status_code, refused.json()["code"]) == (409, "not_a_draft")
    assert Dispatch.objects.get(pk=pk).subject == "đôn đốc thu nợ quý II"


def test_it_refuses_to_change_someone_elses_draft(make_client, draft, draft_body):
    from notices import roles
    from tests.conftest import make_user

    _key, client = make_client(make_user("soanthao2", roles.DRAFTER), [Scope.DRAFTS])
    refused = client.patch_json(f"/api/v1/drafts/{draft.pk}/", {"subject": "của tôi"})
    assert (refused.status_code, refused.json()["code"]) == (403, "role_forbids")


def test_it_answers_404_for_a_dispatch_that_does_not_exist(drafting):
    _key, client = drafting
    response = client.patch_json("/api/v1/drafts/999999/", {"subject": "x"})
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Không tìm thấy, hoặc khóa này không được xem."}


def test_submitting_a_draft_without_recipients_is_refused_by_the_workflow(drafting, draft_body):
    _key, client = drafting
    pk = create(client, draft_body, groups=[]).json()["id"]
    refused = client.post_json(f"/api/v1/drafts/{pk}/submit/")
    assert refused.status_code == 409
    assert refused.json()["code"] == "workflow_refused"
    assert refused.json()["message"].startswith("Công văn chưa có nơi nhận")
    assert AuditEvent.objects.filter(action="refused:submit", object_id=str(pk)).exists()


def test_a_key_with_the_issue_scope_approves_through_the_workflow(drafting, draft_body, approver, make_client):
    _key, client = drafting
    pk = create(client, draft_body).json()["id"]
    client.post_json(f"/api/v1/drafts/{pk}/submit/")
    refused = client.post_json(f"/api/v1/dispatches/{pk}/approve/")
    assert refused.status_code == 403 and refused.json()["code"] == "scope_missing"
    _own, own_client = make_client(Dispatch.objects.get(pk=pk).created_by, [Scope.ISSUE])
    own = own_client.post_json(f"/api/v1/dispatches/{pk}/approve/")
    assert (own.status_code, own.json()["code"]) == (409, "workflow_refused"), "nobody approves their own draft"
    _key2, approving = make_client(approver, [Scope.ISSUE, Scope.READ])
    approved = approving.post_json(f"/api/v1/dispatches/{pk}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert Dispatch.objects.get(pk=pk).approved_by == approver
    assert AuditEvent.objects.filter(action="approve", actor_name="pheduyet").exists()


def test_a_key_with_the_issue_scope_issues_through_issuing(approved, clerk, make_client, fresh_broker):
    _key, client = make_client(clerk, [Scope.ISSUE])
    response = client.post_json(f"/api/v1/dispatches/{approved.pk}/issue/")
    assert response.status_code == 200, response.json()
    approved.refresh_from_db()
    assert approved.status == DispatchStatus.ISSUED and approved.number and approved.pdf
    assert response.json()["notation"] == approved.notation
    assert AuditEvent.objects.filter(action="issue", object_id=str(approved.pk), actor_name="vanthu").exists()
    assert AuditEvent.objects.filter(action="api:issue", object_id=str(approved.pk)).exists()


def test_a_secret_dispatch_is_never_issued_through_the_api(draft, clerk, make_client):
    draft.secrecy = "mat"
    draft.addressees = "Giám đốc Công an thành phố"
    draft.save()
    approve(draft)
    _key, client = make_client(clerk, [Scope.ISSUE])
    refused = client.post_json(f"/api/v1/dispatches/{draft.pk}/issue/")
    assert refused.status_code == 403
    assert refused.json() == {"code": "secret_dispatch", "message": "Không được phát hành công văn mật qua API."}
    draft.refresh_from_db()
    assert (draft.status, draft.number) == (DispatchStatus.APPROVED, None)
    assert AuditEvent.objects.filter(action="api:refused:issue", object_id=str(draft.pk)).exists()


def test_issuing_a_draft_is_refused_by_the_transition_table(draft, clerk, make_client):
    _key, client = make_client(clerk, [Scope.ISSUE])
    refused = client.post_json(f"/api/v1/dispatches/{draft.pk}/issue/")
    assert refused.status_code == 409
    assert refused.json()["code"] == "workflow_refused"
    assert refused.json()["message"] == "Chỉ phát hành được công văn đã duyệt."


def test_it_refuses_a_body_beyond_the_request_limit(drafting, draft_body, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    _key, client = drafting
    response = create(client, draft_body, body="<p>" + "x" * 2000 + "</p>")
    assert response.status_code == 413
    assert response.json() == {"code": "body_too_large", "message": "Nội dung yêu cầu quá lớn."}
    assert not Dispatch.objects.exists()


def test_a_method_the_endpoint_does_not_have_is_refused_as_json(drafting):
    _key, client = drafting
    response = client.get("/api/v1/drafts/")
    assert (response.status_code, response.json()["code"]) == (405, "method_not_allowed")
