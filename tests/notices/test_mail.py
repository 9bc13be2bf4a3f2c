"""The message builder (notices/mail.py): what each recipient's email says and carries."""

from __future__ import annotations

import pytest
from django.test.signals import template_rendered

from notices import acknowledgement, mail, sendloop
from notices.models import Delivery, Urgency
from tests.notices.delivery_fixtures import PDF, ids_of


@pytest.mark.django_db
def test_the_email_carries_the_dispatch_the_pdf_the_acknowledgement_link_and_the_scam_notice(issue_to, smtp_server):
    dispatch = issue_to(1, urgency=Urgency.EXPRESS)
    (pk,) = ids_of(dispatch)
    sendloop.send_batch([pk])

    (message,) = smtp_server.messages
    assert message["To"] == "office000@bhxh-hanoi.example.vn"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Kính gửi: Bảo hiểm xã hội cơ sở số 000" in text
    assert "07/BHXH-QLT" in text and dispatch.subject in text and "HỎA TỐC" in text
    assert acknowledgement.url(pk) in text and "Xác nhận đã nhận văn bản" in html
    assert "OTP" in text and "Zalo" in text and "1900 9068" in text and "1900 9068" in html
    assert "Mã xác thực" not in text and "xac-thuc" not in text  # no code before the document concern sets one
    assert "<img" not in html  # no tracking pixels
    (pdf,) = message.iter_attachments()
    assert pdf.get_content() == PDF and pdf.get_filename() == "07-BHXH-QLT.pdf"


@pytest.mark.django_db
def test_the_email_shows_the_verification_code_and_link_when_the_dispatch_has_them(issue_to, smtp_server):
    dispatch = issue_to(1, short_code="K7Q2-9XPA", verification_code="a" * 40)
    sendloop.send_batch(ids_of(dispatch))
    text = smtp_server.messages[0].get_body(("plain",)).get_content()
    assert "K7Q2-9XPA" in text and dispatch.verification_url() in text


@pytest.mark.django_db
def test_the_shared_parts_are_built_once_per_dispatch(issue_to, smtp_server):
    dispatch = issue_to(4)
    mail._cache.clear()
    rendered = []

    def count(sender, template, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(count)
    try:
        ids = ids_of(dispatch)
        sendloop.send_batch(ids[:2])
        sendloop.send_batch(ids[2:])
    finally:
        template_rendered.disconnect(count)
    assert rendered.count("notices/email/dispatch.txt") == 1 and len(smtp_server.messages) == 4


@pytest.mark.django_db
def test_the_appendices_follow_the_dispatch_pdf_in_order(draft, issue_to, smtp_server):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from weasyprint import HTML

    from notices.models import Appendix

    annex = [HTML(string=f"<p>Phụ lục {n}</p>").write_pdf() for n in (1, 2)]
    for position in (2, 1):
        upload = SimpleUploadedFile(f"annex-{position}.pdf", annex[position - 1])
        Appendix.objects.create(dispatch=draft, title=f"Phụ lục {position}", position=position, file=upload)
    stored = [item.read() for item in draft.appendices.order_by("position")]  # as rewritten without active content
    dispatch = issue_to(1)
    sendloop.send_batch(ids_of(dispatch))

    (message,) = smtp_server.messages
    files = [(part.get_filename(), part.get_content()) for part in message.iter_attachments()]
    assert files == [
        ("07-BHXH-QLT.pdf", PDF),
        ("07-BHXH-QLT-phu-luc-1.pdf", stored[0]),
        ("07-BHXH-QLT-phu-luc-2.pdf", stored[1]),
    ]


@pytest.mark.django_db
def test_the_test_copy_carries_a_working_acknowledgement_link(client, issue_to, smtp_server, settings):
    dispatch = issue_to(1)
    copy = dispatch.queue_test_copy("vanthu@bhxh.example.vn")
    sendloop.send_batch([copy])
    text = smtp_server.messages[0].get_body(("plain",)).get_content()
    assert acknowledgement.url(copy) in text and f"{settings.PUBLIC_BASE_URL}/\n" not in text
    assert client.get(acknowledgement.url(copy).removeprefix(settings.PUBLIC_BASE_URL)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("urgency", [Urgency.EXPRESS, Urgency.VERY_URGENT, Urgency.URGENT])
def test_an_urgent_dispatch_says_so_in_its_subject_and_priority_headers(issue_to, smtp_server, urgency):
    dispatch = issue_to(1, urgency=urgency)
    sendloop.send_batch(ids_of(dispatch))
    (message,) = smtp_server.messages
    assert message["Subject"] == f"[{urgency.label}] [Số 07/BHXH-QLT] V/v {dispatch.subject}"
    assert (message["X-Priority"], message["Importance"], message["Priority"]) == ("1 (Highest)", "high", "urgent")


@pytest.mark.django_db
def test_a_normal_dispatch_has_no_priority_headers(issue_to, smtp_server):
    sendloop.send_batch(ids_of(issue_to(1)))
    (message,) = smtp_server.messages
    assert message["X-Priority"] is None and message["Importance"] is None


@pytest.mark.django_db
def test_the_agency_is_named_in_sentence_case_inside_a_sentence(issue_to, smtp_server):
    sendloop.send_batch(ids_of(issue_to(1)))
    (message,) = smtp_server.messages
    for body in (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()):
        assert "Bảo hiểm xã hội thành phố Hà Nội gửi Quý cơ quan" in body
        assert "BẢO HIỂM XÃ HỘI THÀNH PHỐ HÀ NỘI gửi" not in body
        assert "Bảo hiểm xã hội thành phố Hà Nội không bao giờ yêu cầu" in body


@pytest.mark.django_db
def test_replies_go_to_the_drafting_units_mailbox_on_every_kind_of_email(issue_to, smtp_server, settings, clerk):
    settings.DEFAULT_REPLY_TO = "vanthu@bhxh.example.vn"
    dispatch = issue_to(1)
    dispatch.drafting_unit.reply_to = "qlt@bhxh.example.vn"
    dispatch.drafting_unit.save()
    dispatch.queue_test_copy("me@bhxh.example.vn")
    sendloop.send_batch([*ids_of(dispatch), *Delivery.every_kind.filter(kind="test").values_list("pk", flat=True)])
    assert [m["Reply-To"] for m in smtp_server.messages] == ["qlt@bhxh.example.vn"] * 2
    assert all(m["From"] != m["Reply-To"] for m in smtp_server.messages)


@pytest.mark.django_db
def test_without_a_units_mailbox_replies_go_to_the_setting_and_never_to_the_sender(issue_to, smtp_server, settings):
    settings.DEFAULT_REPLY_TO = "vanthu@bhxh.example.vn"
    dispatch = issue_to(2)
    (first, second) = ids_of(dispatch)
    sendloop.send_batch([first])
    settings.DEFAULT_REPLY_TO = "congvan@bhxh.example.vn"  # the sending address: no Reply-To rather than that
    mail._cache.clear()
    sendloop.send_batch([second])
    assert smtp_server.messages[0]["Reply-To"] == "vanthu@bhxh.example.vn"
    assert smtp_server.messages[1]["Reply-To"] is None


@pytest.mark.django_db
def test_a_reminder_says_nhac_lai_carries_no_attachment_and_acknowledges_the_dispatch_email(issue_to, smtp_server):
    dispatch = issue_to(1)
    (pk,) = ids_of(dispatch)
    reminder = Delivery.every_kind.create(dispatch=dispatch, kind="reminder", reminds_id=pk, reminder_round=1,
                                          organization_name="Bảo hiểm xã hội cơ sở số 000", address="office000@bhxh-hanoi.example.vn")  # fmt: skip
    sendloop.send_batch([reminder.pk])
    (message,) = smtp_server.messages
    assert message["Subject"].startswith("Nhắc lại: [Số 07/BHXH-QLT] V/v ")
    assert not list(message.iter_attachments())
    text = message.get_body(("plain",)).get_content()
    assert acknowledgement.url(pk) in text and acknowledgement.url(reminder.pk) not in text
    assert "chưa nhận được xác nhận" in text
