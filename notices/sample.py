"""A built-in sample dispatch (3+ pages, several addressees, KHẨN, appendices) rendered without the database."""

from __future__ import annotations

import datetime

from django.utils import timezone

from notices.models import Appendix, Dispatch, DraftingUnit, Issuer, Signer, Urgency

PARAGRAPHS = [
    "Thực hiện Luật Bảo hiểm xã hội năm 2024 có hiệu lực thi hành từ ngày 01/7/2025 và các văn bản hướng dẫn thi hành, "
    "Bảo hiểm xã hội thành phố Hà Nội đề nghị Quý cơ quan phối hợp thực hiện một số nội dung sau:",
    "Rà soát, đôn đốc các đơn vị sử dụng lao động trên địa bàn đóng đủ, đúng hạn bảo hiểm xã hội, bảo hiểm y tế, "
    "bảo hiểm thất nghiệp cho người lao động; kịp thời phát hiện và xử lý các trường hợp chậm đóng, trốn đóng.",
    "Tuyên truyền để người dân và doanh nghiệp cảnh giác với các đối tượng giả danh cơ quan bảo hiểm xã hội qua điện "
    "thoại, Zalo, đường liên kết và mã QR để đề nghị cung cấp số định danh cá nhân, mã OTP hoặc thông tin tài khoản ngân hàng.",
    "Bảo hiểm xã hội thành phố Hà Nội không bao giờ yêu cầu cung cấp mã OTP, mật khẩu hay nộp phí qua điện thoại; mọi "
    "văn bản điện tử của cơ quan đều được ký số và có mã xác thực in ở cuối trang đầu để người nhận kiểm tra.",
]
LIST = (
    "<ul><li>Tổng hợp danh sách đơn vị nợ đóng từ 03 tháng trở lên, gửi về Phòng Quản lý thu trước ngày 15 hằng tháng;</li>"
    "<li>Phối hợp kiểm tra liên ngành tại các đơn vị có số nợ lớn;</li>"
    "<li>Báo cáo kết quả thực hiện theo Phụ lục kèm theo.</li></ul>"
)
TABLE = (
    "<table><thead><tr><th>STT</th><th>Nội dung</th><th>Thời hạn</th></tr></thead><tbody>"
    "<tr><td>1</td><td>Rà soát đơn vị nợ đóng</td><td>Trước ngày 15/3/2026</td></tr>"
    "<tr><td>2</td><td>Kiểm tra liên ngành</td><td>Quý II năm 2026</td></tr>"
    "<tr><td>3</td><td>Báo cáo kết quả</td><td>Trước ngày 30/6/2026</td></tr></tbody></table>"
)


def sample_body(rounds: int = 4) -> str:
    """Return a body long enough for three or more pages, with a list and a table."""
    paragraphs = "".join(f"<p>{text}</p>" for text in PARAGRAPHS)
    parts = [paragraphs, LIST, TABLE] + [paragraphs] * (rounds - 1)
    return "".join(parts) + "<p>Trân trọng cảm ơn sự phối hợp của Quý cơ quan./.</p>"


def sample_dispatch() -> tuple[Dispatch, list[Appendix]]:
    """Return an unsaved, issued-looking sample dispatch and its (unsaved) appendices."""
    issuer = Issuer(
        parent_body="Bảo hiểm xã hội Việt Nam", name="Bảo hiểm xã hội thành phố Hà Nội", abbreviation="BHXH",
        printed_name="Bảo hiểm xã hội | thành phố Hà Nội",
        place="Hà Nội", address="Số 15 phố Trần Phú, phường Hà Đông, thành phố Hà Nội", phone="1900 9068",
        email="congvan@bhxh.example.vn", website="hanoi.baohiemxahoi.gov.vn",
    )  # fmt: skip
    unit = DraftingUnit(issuer=issuer, name="Phòng Quản lý thu", abbreviation="QLT")
    signer = Signer(issuer=issuer, full_name="Nguyễn Văn Minh", authority="KT. GIÁM ĐỐC", position="Phó Giám đốc")
    dispatch = Dispatch(
        issuer=issuer, drafting_unit=unit, signer=signer, urgency=Urgency.URGENT,
        subject="phối hợp đôn đốc thu BHXH, BHYT, BHTN và phòng chống giả danh cơ quan BHXH năm 2026",
        addressees="Công an thành phố Hà Nội\nSở Nội vụ thành phố Hà Nội\nỦy ban nhân dân các phường, xã",
        extra_distribution="Giám đốc (để b/c)\nCác Phó Giám đốc\nBHXH cơ sở (để t/h)",
        body=sample_body(), number=5, year=2026, series="regular",
        issued_at=timezone.make_aware(datetime.datetime(2026, 3, 5, 9, 30)),
        verification_code="mau-van-ban-khong-co-gia-tri", short_code="MAUV-ANBA-NX",
    )  # fmt: skip
    appendices = [
        Appendix(title="Danh sách đơn vị nợ đóng BHXH, BHYT, BHTN từ 03 tháng trở lên", position=1),
        Appendix(title="Mẫu báo cáo kết quả phối hợp", position=2),
    ]
    return dispatch, appendices
