"""What the audit trail and the delivery timeline call things (notices/admin/labels.py): labels, never codes."""

from __future__ import annotations

from django.utils import translation

from notices.admin import labels


def test_an_action_is_labelled_with_its_prefix_and_an_unknown_one_is_shown_as_it_is():
    assert labels.action_label("approve") == "Approved"
    assert labels.action_label("refused:issue") == "Refused: Issued"
    assert labels.action_label("sending:pause") == "Sending: Paused sending"
    assert labels.action_label("something-new") == "something-new"


def test_an_event_is_labelled_by_its_status_or_by_what_the_provider_reported():
    assert labels.event_label("queued") == "Queued"
    assert labels.event_label("provider:bounced") == "Provider reported: Bounced"
    assert labels.event_label("acknowledged") == "Receipt acknowledged"


def test_an_object_type_is_its_models_name_and_details_name_their_keys_and_statuses():
    assert labels.object_type_label("notices.dispatch") == "dispatch"
    assert labels.object_type_label("no.such_model") == "no.such_model" and labels.object_type_label("") == ""
    assert (
        labels.details_label({"from": "submitted", "to": "approved", "n": 3}) == "from: Submitted; to: Approved; n: 3"
    )


def test_the_labels_speak_vietnamese_in_a_vietnamese_session():
    with translation.override("vi"):
        assert labels.action_label("approve") != "Approved" and labels.event_label("queued") != "Queued"


def test_a_bounce_report_from_the_mailbox_reads_in_vietnamese():
    assert labels.event_label("dsn:delayed") == "Bounce report: delayed"
    with translation.override("vi"):
        assert labels.event_label("dsn:delayed") == "Thư báo lỗi chuyển phát: bị chậm"
