"""A client system with a key and the schema alone: it creates and submits a draft, an approver approves it in the
admin, a clerk's key issues it, a real Celery worker sends it to a real SMTP server, and the client follows it to
"sent" and receives its signed callbacks on its own HTTP server."""

from __future__ import annotations

from api import callbacks
from api.models import Scope
from tests.api.conftest import KeyClient, new_key, verify
from tests.conftest import wait_until
from tests.second_factor import VerifiedClient


def operation_path(schema: dict, method: str, summary: str, **params) -> str:
    """Return the path of the operation the schema describes with this summary, its parameters filled in."""
    for path, operations in schema["paths"].items():
        if operations.get(method, {}).get("summary") == summary:
            return path.format(**params)
    raise AssertionError(f"the schema has no {method} '{summary}'")


def test_a_client_system_drafts_follows_to_sent_and_receives_its_callbacks(
    drafter, approver, clerk, unit, signer, offices, receiver, smtp_server, celery_worker, fresh_broker
):
    key, secret = new_key(drafter, [Scope.DRAFTS, Scope.READ], name="Hệ thống quản lý văn bản điều hành")
    client = KeyClient(secret)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    callback = client.put_json(operation_path(schema, "put", "Set the callback URL"), {"url": receiver.url}).json()
    created = client.post_json(operation_path(schema, "post", "Create a draft"), {
        "drafting_unit": unit.abbreviation, "signer": signer.pk, "subject": "đôn đốc thu nợ BHXH quý I năm 2026",
        "body": "<p>Đề nghị Quý cơ quan đôn đốc các đơn vị nộp đủ số tiền còn nợ.</p>", "groups": [offices.name],
    })  # fmt: skip
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    submitted = client.post_json(f"/api/v1/drafts/{pk}/submit/")
    assert submitted.json()["status"] == "submitted"

    admin = VerifiedClient()  # the approver passed the password and the second factor
    admin.force_login(approver)
    assert admin.post(f"/admin/notices/dispatch/{pk}/workflow/approve/").status_code == 302
    _clerk_key, clerk_secret = new_key(clerk, [Scope.ISSUE])
    issued = KeyClient(clerk_secret).post_json(f"/api/v1/dispatches/{pk}/issue/")
    assert issued.status_code == 200 and issued.json()["status"] == "issued", issued.json()

    status_path = operation_path(schema, "get", "A dispatch's status and counts", id=pk)

    def sent_and_called_back() -> bool:
        callbacks.collect()  # what beat's api.collect_callbacks does every CALLBACK_COLLECT_SECONDS
        answer = client.get(status_path).json()
        told = {(p["delivery_id"], p["status"]) for p in receiver.payloads()}
        return answer["status"] == "sent" and len({d for d, status in told if status == "sent"}) == 3

    wait_until(sent_and_called_back, timeout=90)
    assert client.get(status_path).json()["counts"] == {"sent": 3}
    assert len(smtp_server.messages) == 3
    assert all(verify(call, callback["secret"]) for call in receiver.calls)
    deliveries = client.get(operation_path(schema, "get", "A dispatch's deliveries, by cursor", id=pk)).json()
    assert {row["status"] for row in deliveries["results"]} == {"sent"}
    payload = receiver.payloads()[-1]
    assert (payload["dispatch_id"], payload["notation"]) == (pk, issued.json()["notation"])
    pdf = client.get(f"/api/v1/dispatches/{pk}/pdf/")
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
