"""The document tools on the dispatch admin page: editor, preview, Word import, appendices, secrecy."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from notices import issuing
from notices.fanout import create_deliveries
from notices.models import Delivery, Dispatch
from notices.transports import TransportError
from tests.conftest import approve, make_group
from tests.notices.conftest import open_pdf
from tests.notices.test_docx_import import build_body, word_file

pytestmark = pytest.mark.django_db


def change_url(dispatch: Dispatch) -> str:
    return reverse("admin:notices_dispatch_change", args=[dispatch.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_draft_page_offers_our_own_editor_preview_import_and_appendices(client, drafter, draft):
    client.force_login(drafter)
    html = client.get(change_url(draft)).content.decode()
    assert "/static/notices/editor.js" in html and "data-richtext" in html
    assert "cdn" not in html.lower()
    assert reverse("admin:notices_dispatch_preview", args=[draft.pk]) in html
    assert reverse("admin:notices_dispatch_import_docx", args=[draft.pk]) in html
    assert 'id="appendices-group"' in html


def test_the_preview_is_a_watermarked_pdf_that_changes_nothing(client, drafter, draft):
    client.force_login(drafter)
    response = client.get(reverse("admin:notices_dispatch_preview", args=[draft.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    with open_pdf(response.content) as pdf:
        assert "".join(c["text"] for c in pdf.pages[0].chars if c["size"] > 50) == "DỰ THẢO"
    draft.refresh_from_db()
    assert draft.number is None and not draft.pdf and draft.status == "draft"


def test_word_import_puts_the_sanitised_body_in_the_editor_unsaved(client, drafter, draft):
    client.force_login(drafter)
    before = draft.body
    url = reverse("admin:notices_dispatch_import_docx", args=[draft.pk])
    response = client.post(url, {"file": word_file(build_body)}, follow=True)
    editor = response.context["adminform"].form.initial["body"]
    assert editor.startswith("<p>Bảo hiểm xã hội thành phố Hà Nội đề nghị:</p>")
    assert "<ul><li>Rà soát đơn vị nợ đóng;</li>" in editor
    assert "Nothing is saved yet" in response.content.decode()
    draft.refresh_from_db()
    assert draft.body == before  # saved only when the user saves the form
    assert (
        client.get(reverse("admin:notices_dispatch_change", args=[draft.pk])).context["adminform"].form.initial["body"]
        == before
    )  # shown once


def test_a_bad_word_file_is_reported_and_the_body_is_kept(client, drafter, draft):
    client.force_login(drafter)
    before = draft.body
    url = reverse("admin:notices_dispatch_import_docx", args=[draft.pk])
    response = client.post(url, {"file": SimpleUploadedFile("x.docx", b"not a zip")})
    assert response.status_code == 200 and "not a Word document" in response.content.decode()
    draft.refresh_from_db()
    assert draft.body == before


def run_action(client, action: str, dispatch: Dispatch):
    url = reverse("admin:notices_dispatch_changelist")
    return client.post(url, {"action": action, "_selected_action": [dispatch.pk]}, follow=True)


def test_the_admin_refuses_to_email_a_secret_dispatch(client, clerk, draft):
    draft.secrecy = "mat"
    draft.save()
    draft.groups.add(make_group(2))
    client.force_login(clerk)
    response = run_action(client, "issue_and_send", draft)
    (message,) = messages_of(response)
    assert "MẬT" in message and "never sent by email" in message
    draft.refresh_from_db()
    assert draft.number is None and not Delivery.objects.exists()


def test_a_secret_dispatch_is_registered_in_its_own_series_without_email(
    client, clerk, draft, django_capture_on_commit_callbacks
):
    draft.secrecy = "toi_mat"
    draft.save()
    approve(draft)
    draft.groups.add(make_group(2))
    client.force_login(clerk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run_action(client, "register_secret", draft)
    draft.refresh_from_db()
    assert (draft.series, draft.number) == ("secret", 1)
    assert callbacks == [] and not Delivery.objects.exists()


def test_the_sending_code_refuses_a_secret_dispatch_on_its_own(draft, clerk, monkeypatch):
    draft.groups.add(make_group(2))
    issuing.issue(approve(draft), clerk)
    Dispatch.objects.filter(pk=draft.pk).update(secrecy="tuyet_mat")  # marked secret after issue, by any route
    draft.refresh_from_db()
    with pytest.raises(TransportError) as refused:
        create_deliveries(draft)
    assert refused.value.permanent and not Delivery.objects.exists()


def test_the_preview_is_rendered_in_the_sandbox_and_a_runaway_leaves_a_message(client, drafter, draft, settings):
    settings.SANDBOX_TIMEOUT_SECONDS = 0.01  # no render finishes this fast: it is stopped like a runaway
    client.force_login(drafter)
    response = client.get(reverse("admin:notices_dispatch_preview", args=[draft.pk]))
    assert response.status_code == 302 and response["Location"] == change_url(draft)
    assert messages_of(response) == ["The preview could not be rendered: The work took too long and was stopped."]


def test_a_word_import_that_runs_away_is_reported_and_the_body_is_kept(client, drafter, draft, settings):
    settings.SANDBOX_TIMEOUT_SECONDS = 0.01
    client.force_login(drafter)
    before = draft.body
    response = client.post(
        reverse("admin:notices_dispatch_import_docx", args=[draft.pk]), {"file": word_file(build_body)}
    )
    assert "within the time and memory allowed" in response.content.decode()
    draft.refresh_from_db()
    assert draft.body == before
