"""The fast path of personalised copies: a stamped copy is what a full render of it draws, and only it."""

from __future__ import annotations

import io

import pikepdf
import pypdfium2
import pytest
from pypdf import PdfReader

from notices import copies, personalising, rendering, stamping
from notices.models import Dispatch, DispatchCopy, DispatchStatus
from recipients.models import Organization
from tests.notices.test_copies import money, owed, pdf_text, personalised

TABLE_BODY = (
    "<p>Căn cứ kết quả đối chiếu, Bảo hiểm xã hội thành phố Hà Nội thông báo số tiền đơn vị còn nợ.</p>"
    "<p>Số tiền còn nợ: {{ so_tien_no|money }}, hạn nộp 05/03/2026.</p>"
    "<table><tr><td>Tháng</td></tr><tr><td>{% for r in table %}{{ r.thang }}{% endfor %}</td></tr></table>"
    "<p>Đề nghị đơn vị nộp đủ số tiền còn nợ trước hạn nêu trên.</p>"
)
LONG_NAME = "Công ty TNHH Thương mại và Dịch vụ Xuất nhập khẩu Hoàng Long Việt Nam, chi nhánh thành phố Hà Nội"


def issued(draft, size: int, body: str = TABLE_BODY) -> Dispatch:
    dispatch = personalised(draft, size)
    Dispatch.objects.filter(pk=dispatch.pk).update(status=DispatchStatus.ISSUED, number=7, year=2026, body=body,
                                                   verification_code="s", short_code="SSSS-TTTT-UU")  # fmt: skip
    return Dispatch.objects.select_related("issuer", "drafting_unit", "signer").get(pk=dispatch.pk)


def texts(dispatch: Dispatch) -> list[tuple[Organization, rendering.CopyText]]:
    organizations = list(dispatch.target_organizations().order_by("pk"))
    own = personalising.texts_for(dispatch, organizations)
    codes = DispatchCopy.objects.new_short_codes(len(organizations))
    return [(org, copies.own_text(own[org.pk], code)) for org, code in zip(organizations, codes, strict=True)]


def parts(dispatch: Dispatch, frame: stamping.Skeleton, text: rendering.CopyText) -> stamping.CopyParts:
    made = stamping.parts_of(frame, text, copies.qr_for(dispatch, text))
    assert made is not None
    return made


def pixels(pdf: bytes) -> list[bytes]:
    document = pypdfium2.PdfDocument(pdf)
    return [document[i].render(scale=2).to_pil().tobytes() for i in range(len(document))]


@pytest.mark.django_db
def test_a_stamped_copy_is_pixel_identical_to_its_full_render_and_its_shape_reuses_one_master(draft):
    dispatch = issued(draft, 4)
    organizations = texts(dispatch)
    Organization.objects.filter(pk=organizations[2][0].pk).update(name=LONG_NAME)  # "Kính gửi" wraps: a new shape
    organizations = texts(dispatch)
    frame = stamping.skeleton(dispatch, [], personalising.addressee_count(dispatch))
    assert frame is not None and [b.personal for b in frame.blocks] == [False, True, True, False]

    masters: dict = {}
    made = [stamping.stamped(frame, parts(dispatch, frame, text), masters) for _, text in organizations]

    assert [full for _, full in made] == [True, False, True, False]  # the first of each shape is laid out in full
    assert len(masters) == 2
    for (_, text), (pdf, _) in zip(organizations, made, strict=True):
        assert pixels(pdf) == pixels(rendering.render_html(rendering.dispatch_html(dispatch, [], copy=text)))


@pytest.mark.django_db
def test_a_stamped_copy_carries_its_own_figures_and_title_and_nothing_of_the_copy_laid_out_first(draft):
    dispatch = issued(draft, 2)
    (first_org, first), (second_org, second) = texts(dispatch)
    frame = stamping.skeleton(dispatch, [], 1)
    masters: dict = {}
    stamping.stamped(frame, parts(dispatch, frame, first), masters)

    pdf, full = stamping.stamped(frame, parts(dispatch, frame, second), masters)

    assert not full
    text = pdf_text(pdf)
    assert f"Kính gửi: {second_org.name}" in text and second.short_code in text and money(owed(1)) in text
    assert first_org.name not in text and first.short_code not in text and money(owed(0)) not in text
    with pikepdf.open(io.BytesIO(pdf)) as document:
        streams = b"".join(o.read_bytes() for o in document.objects if isinstance(o, pikepdf.Stream))
        assert str(document.docinfo["/Title"]) == second.subject
    assert first.verification_code.encode() not in pdf + streams  # the first copy's QR and link left nothing
    assert PdfReader(io.BytesIO(pdf)).metadata.title == second.subject


@pytest.mark.django_db
def test_the_copies_of_a_batch_are_stamped_and_only_the_first_of_a_shape_is_rendered_in_full(draft):
    dispatch = issued(draft, 6)

    assert copies.make_missing(dispatch) == 6

    stored = DispatchCopy.objects.filter(dispatch=dispatch)
    assert stored.filter(full_render=True).count() == 1
    for copy in stored:
        index = int(Organization.objects.get(pk=copy.organization_id).bhxh_code[2:])
        assert money(owed(index)) in pdf_text(copy.read())


@pytest.mark.django_db
def test_a_body_with_text_between_its_blocks_or_a_link_in_a_personal_block_takes_the_full_path(draft):
    loose = issued(draft, 2, body="{% for r in table %}<p>{{ r.thang }}</p>{% endfor %}")
    assert stamping.skeleton(loose, [], 1) is None
    assert copies.make_missing(loose) == 2
    assert DispatchCopy.objects.filter(dispatch=loose, full_render=True).count() == 2

    linked = '<p>Tra cứu tại <a href="https://bhxh.example.vn/{{ so_tien_no }}">đây</a>.</p>'
    assert stamping.body_blocks(linked) is None
    assert [
        b.personal for b in stamping.body_blocks('<p><a href="https://bhxh.example.vn">x</a></p><p>{{ a }}</p>')
    ] == [
        False,
        True,
    ]


def test_a_body_is_cut_into_its_top_level_blocks_only_when_nothing_else_stands_between_them():
    body = "<p>Một <b>hai</b></p>\n<table><tr><td><p>ba</p></td></tr></table><ul><li>bốn</li></ul>"
    assert stamping.top_level_blocks(body) == [
        "<p>Một <b>hai</b></p>",
        "<table><tr><td><p>ba</p></td></tr></table>",
        "<ul><li>bốn</li></ul>",
    ]
    assert stamping.top_level_blocks("<p>một</p>hai") is None
    assert stamping.top_level_blocks("<p>một</p><b>hai</b>") is None
    assert stamping.top_level_blocks("<p>một</p>&nbsp;") is None
    assert stamping.top_level_blocks("") is None
