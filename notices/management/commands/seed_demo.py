from __future__ import annotations

from base64 import b32encode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from config import second_factor
from notices import images, roles
from notices.models import Dispatch, DispatchStatus, DraftingUnit, Issuer, Signer
from recipients.models import RecipientGroup
from recipients.seed import seed_directory

DEMO_USERS = [
    ("soanthao", roles.DRAFTER, "Nguyễn Thị", "Soạn"),
    ("pheduyet", roles.APPROVER, "Trần Văn", "Duyệt"),
    ("vanthu", roles.CLERK, "Lê Thị", "Văn"),
    ("kiemtoan", roles.AUDITOR, "Phạm Văn", "Kiểm"),
    ("quantri", roles.ADMINISTRATOR, "Hoàng Văn", "Trị"),
]
DEMO_PASSWORD = "demo-congvan-2026"
# The demo authenticator key (hex; public, like the password): the roles that must pass a second factor get it.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"
UNITS = [
    ("QLT", "Phòng Quản lý thu"), ("CĐBHXH", "Phòng Chế độ BHXH"), ("CĐBHYT", "Phòng Chế độ BHYT"),
    ("KHTC", "Phòng Kế hoạch - Tài chính"), ("TTKT", "Phòng Thanh tra - Kiểm tra"), ("TCCB", "Phòng Tổ chức cán bộ"),
    ("TTHT", "Phòng Truyền thông và Hỗ trợ"), ("CNTT", "Phòng Công nghệ thông tin"), ("VP", "Văn phòng"),
]  # fmt: skip
SAMPLE_BODY = (
    "<p>Thực hiện Luật Bảo hiểm xã hội năm 2024 có hiệu lực từ ngày 01/7/2025, Bảo hiểm xã hội thành phố Hà Nội "
    "đề nghị Quý cơ quan phối hợp rà soát, đôn đốc các đơn vị sử dụng lao động trên địa bàn đóng đủ, đúng hạn "
    "bảo hiểm xã hội, bảo hiểm y tế, bảo hiểm thất nghiệp cho người lao động.</p>"
    "<p>Bảo hiểm xã hội thành phố Hà Nội không bao giờ yêu cầu cung cấp mã OTP, mật khẩu hay nộp phí qua điện thoại; "
    "mọi thông tin chính thức được đăng trên cổng thông tin điện tử và đường dây nóng 1900 9068.</p>"
    "<p>Trân trọng cảm ơn sự phối hợp của Quý cơ quan./.</p>"
)


class Command(BaseCommand):
    help = "Create or update the demo issuer, directory, users and a sample draft (idempotent; DEBUG only)."

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo creates users with public passwords: it is refused when DEBUG is off.")
        with transaction.atomic():
            issuer = self.seed_issuer()
            counts = seed_directory()
            users = self.seed_users()
            self.seed_sample(issuer, users["soanthao"], users["pheduyet"])
        self.stdout.write(f"Directory: {counts['organizations']} organisations, {counts['groups']} groups.")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, *_ in DEMO_USERS:
            needs = " (second factor)" if second_factor.is_required(users[username]) else ""
            self.stdout.write(f"  {username:10} {role}{needs}")
        self.stdout.write(
            "Second factor, DEVELOPMENT ONLY: the code is printed by `.venv/bin/python manage.py demo_code USER`, or add "
            f"the key {b32encode(bytes.fromhex(DEMO_TOTP_KEY)).decode()} to an authenticator app."
        )

    def seed_issuer(self) -> Issuer:
        issuer, _ = Issuer.objects.update_or_create(
            abbreviation="BHXH",
            defaults={
                "parent_body": "BẢO HIỂM XÃ HỘI VIỆT NAM",
                "name": "BẢO HIỂM XÃ HỘI THÀNH PHỐ HÀ NỘI",
                "place": "Hà Nội",
                "address": "Số 15 phố Trần Phú, phường Hà Đông, thành phố Hà Nội",
                "phone": "1900 9068",
                "email": "congvan@bhxh.example.vn",
                "website": "hanoi.bhxh.example.vn",
            },
        )
        for abbreviation, name in UNITS:
            DraftingUnit.objects.update_or_create(issuer=issuer, abbreviation=abbreviation, defaults={"name": name})
        signers = [
            Signer.objects.update_or_create(
                issuer=issuer,
                full_name="Nguyễn Văn Minh",
                defaults={"authority": "KT. GIÁM ĐỐC", "position": "PHÓ GIÁM ĐỐC"},
            )[0],
            Signer.objects.update_or_create(issuer=issuer, full_name="Trần Thị Hà", defaults={"position": "GIÁM ĐỐC"})[
                0
            ],
        ]
        self.seed_sample_images(issuer, signers)
        return issuer

    def seed_sample_images(self, issuer: Issuer, signers: list[Signer]) -> None:
        """Give the demo issuer a sample seal and its signers a sample signature ("MẪU"), unless they have one."""
        if not issuer.seal_image:
            issuer.seal_image.save(
                "con-dau-mau.png", ContentFile(images.sample_seal_png("Bảo hiểm xã hội thành phố Hà Nội"))
            )
        for signer in signers:
            if not signer.signature_image:
                signer.signature_image.save("chu-ky-mau.png", ContentFile(images.sample_signature_png()))

    def seed_users(self) -> dict:
        groups = roles.ensure_roles()
        users = {}
        for username, role, family_and_middle, given in DEMO_USERS:
            user, _ = get_user_model().objects.get_or_create(username=username)
            # Django's first_name is the given name; the full name reads last_name + first_name (notices.people).
            user.first_name, user.last_name, user.email = given, family_and_middle, f"{username}@bhxh.example.vn"
            user.is_staff, user.is_superuser = True, role == roles.ADMINISTRATOR
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.set([groups[role]])
            if second_factor.is_required(user) and not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
                TOTPDevice.objects.create(user=user, name="demo", key=DEMO_TOTP_KEY, confirmed=True)
            users[username] = user
        return users

    def seed_sample(self, issuer: Issuer, author, approver) -> None:
        """Leave one approved sample ready for a clerk to issue (a new one once the last was issued)."""
        subject = "phối hợp đôn đốc đóng BHXH, BHYT, BHTN năm 2026"
        waiting = [DispatchStatus.DRAFT, DispatchStatus.SUBMITTED, DispatchStatus.APPROVED]
        if Dispatch.objects.filter(subject=subject, status__in=waiting).exists():
            return
        dispatch = Dispatch.objects.create(
            issuer=issuer,
            drafting_unit=DraftingUnit.objects.get(issuer=issuer, abbreviation="QLT"),
            signer=Signer.objects.get(issuer=issuer, full_name="Nguyễn Văn Minh"),
            subject=subject,
            body=SAMPLE_BODY,
            extra_distribution="Giám đốc (để b/c)",
            created_by=author,
        )
        dispatch.groups.set(RecipientGroup.objects.filter(name__in=["BHXH cơ sở", "Công an"]))
        dispatch.submit(author)
        dispatch.approve(approver)
