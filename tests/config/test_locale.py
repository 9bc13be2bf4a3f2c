from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from notices import roles
from notices.models import Delivery, Dispatch, DispatchStatus
from tests.conftest import make_user
from tests.notices.test_docx_import import build_body, word_file


@pytest.fixture
def vietnamese_default(settings):
    settings.LANGUAGE_CODE = "vi"  # the product's default (tests otherwise run in English)


@pytest.mark.django_db
def test_the_admin_speaks_vietnamese_whatever_the_browser_prefers(client, vietnamese_default, clerk):
    client.force_login(clerk)
    response = client.get("/admin/notices/dispatch/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    page = response.content.decode()
    assert response["Content-Language"] == "vi"
    assert "Hệ thống công văn — Bảo hiểm xã hội thành phố Hà Nội" in page
    assert "Dự thảo" in page and "Draft" not in page


@pytest.mark.django_db
def test_english_is_available_when_chosen(client, settings, vietnamese_default):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/admin/login/")
    assert response["Content-Language"] == "en"
    assert "Username" in response.content.decode()


def test_every_status_has_a_vietnamese_name():
    with translation.override("vi"):
        names = [str(label) for label in DispatchStatus.labels]
    with translation.override("en"):
        english = [str(label) for label in DispatchStatus.labels]
    assert all(vi != en for vi, en in zip(names, english, strict=True)), names


@pytest.mark.django_db
def test_the_language_switch_in_the_admin_changes_to_english_and_back(client, vietnamese_default, clerk):
    client.force_login(clerk)
    page = client.get("/admin/").content.decode()
    assert 'class="language-switch"' in page
    assert '<option value="vi" selected>' in page and '<option value="en">English</option>' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    assert "Official dispatches — Hà Nội social security" in client.get("/admin/").content.decode()
    client.post("/i18n/setlang/", {"language": "vi", "next": "/admin/"})
    assert "Hệ thống công văn" in client.get("/admin/").content.decode()


CATALOGUE = Path(settings.BASE_DIR) / "locale" / "vi" / "LC_MESSAGES" / "django.po"
SOURCES = ["manage.py", "config", "notices", "recipients", "api", "templates"]


def missing_translations(catalogue: polib.POFile) -> list[str]:
    """Return "msgid  (file:line, ...)" for each live entry that is untranslated or fuzzy."""
    missing = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        translated = all(entry.msgstr_plural.values()) if entry.msgid_plural else bool(entry.msgstr)
        if not translated or entry.fuzzy:
            places = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:3])
            missing.append(f"{entry.msgid!r}  ({places or 'no source'})")
    return missing


def test_every_message_in_the_catalogue_has_a_vietnamese_translation():
    missing = missing_translations(polib.pofile(str(CATALOGUE)))
    assert not missing, "Untranslated or fuzzy in django.po:\n" + "\n".join(missing)


def test_every_translatable_string_in_our_code_is_in_the_catalogue(tmp_path):
    """Run makemessages over a copy of the sources (never the real catalogue) and find what it had to add."""
    for name in SOURCES:
        source = Path(settings.BASE_DIR) / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
        else:
            shutil.copy(source, tmp_path / name)
    shutil.copytree(CATALOGUE.parent.parent.parent, tmp_path / "locale")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "vi", "--no-obsolete", "-v0"],
        cwd=tmp_path, check=True, capture_output=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(tmp_path)},
    )  # fmt: skip
    missing = missing_translations(polib.pofile(str(tmp_path / "locale" / "vi" / "LC_MESSAGES" / "django.po")))
    assert not missing, "In the code but not translated in django.po (append them at its end):\n" + "\n".join(missing)


# --- Pages and messages that used to stay English in Vietnamese mode (issue 9 §5) ------------------------------
@pytest.fixture
def vi_client(client, vietnamese_default):
    return client


def page_of(response) -> str:
    return response.content.decode()


@pytest.mark.django_db
def test_form_errors_and_the_history_page_are_vietnamese(vi_client, issuer):
    vi_client.force_login(make_user("quantri", roles.ADMINISTRATOR))
    page = page_of(vi_client.post(reverse("admin:notices_draftingunit_add"), {"issuer": issuer.pk}))
    assert "Vui lòng sửa các lỗi dưới đây." in page and "Please correct" not in page
    history = page_of(vi_client.get(reverse("admin:notices_issuer_history", args=[issuer.pk])))
    assert "Lịch sử" in history and "Bản ghi nhớ" not in history and "History" not in history


@pytest.mark.django_db
def test_the_dispatch_page_names_its_appendices_and_the_search_icon_in_vietnamese(vi_client, drafter, draft):
    vi_client.force_login(drafter)
    page = page_of(vi_client.get(reverse("admin:notices_dispatch_change", args=[draft.pk])))
    assert "phụ lục (pdf)" in page.lower() and "(pdf)s" not in page.lower()
    listing = page_of(vi_client.get(reverse("admin:notices_dispatch_changelist")))
    assert 'alt="Tìm kiếm"' in listing and 'alt="Search"' not in listing
    assert "Show counts" not in listing


@pytest.mark.django_db
def test_the_word_import_speaks_vietnamese_and_says_nothing_is_saved(vi_client, drafter, draft):
    vi_client.force_login(drafter)
    url = reverse("admin:notices_dispatch_import_docx", args=[draft.pk])
    assert "Nhập nội dung từ tệp Word (.docx)" in page_of(vi_client.get(url))
    refused = page_of(vi_client.post(url, {"file": SimpleUploadedFile("x.docx", b"not a zip")}))
    assert "Tệp không phải tài liệu Word (.docx)." in refused
    done = page_of(vi_client.post(url, {"file": word_file(build_body)}, follow=True))
    assert "Chưa có gì được lưu: hãy kiểm tra rồi bấm Lưu." in done and "imported" not in done


@pytest.mark.django_db
def test_the_secrecy_refusal_is_all_vietnamese(vi_client, clerk, approved):
    Dispatch.objects.filter(pk=approved.pk).update(secrecy="mat")
    vi_client.force_login(clerk)
    response = vi_client.post(
        reverse("admin:notices_dispatch_changelist"), {"action": "issue_and_send", "_selected_action": [approved.pk]},
        follow=True,
    )  # fmt: skip
    message = next(str(m) for m in get_messages(response.wsgi_request) if "MẬT" in str(m))
    assert "văn bản mật không bao giờ được gửi qua thư điện tử" in message
    assert not re.search(r"\b(is|marked|secret|never|email|issued)\b", message), message


@pytest.mark.django_db
def test_the_register_notes_and_export_headers_are_vietnamese(vi_client, clerk, auditor, draft):
    Dispatch.objects.filter(pk=draft.pk).update(status="issued", number=5, year=2026, series="regular",
                                                issued_at=timezone.now())  # fmt: skip
    draft.refresh_from_db()
    draft.recall(clerk, "Sai đối tượng.")
    replacement = draft.start_replacement(clerk)
    Dispatch.objects.filter(pk=replacement.pk).update(status="issued", number=6, year=2026, series="regular",
                                                      issued_at=timezone.now())  # fmt: skip
    vi_client.force_login(auditor)
    response = vi_client.get(reverse("admin:notices_outgoingregister_export", args=["csv"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert "trích yếu" in rows[0] and "subject" not in rows[0]
    notes = {row[0]: row[9] for row in rows[1:]}
    assert notes["05/BHXH-QLT"] == "Đã thu hồi: Sai đối tượng.; Được thay thế bằng văn bản số 06/BHXH-QLT"
    assert notes["06/BHXH-QLT"] == "Thay thế văn bản số 05/BHXH-QLT"


@pytest.mark.django_db
def test_the_delivery_page_labels_its_dispatch_in_vietnamese(vi_client, auditor, draft):
    delivery = Delivery.objects.create(dispatch=draft, organization_name="Phường Ba Đình", address="a@b.vn")
    vi_client.force_login(auditor)
    page = page_of(vi_client.get(reverse("admin:notices_sendrecord_change", args=[delivery.pk])))
    assert "Công văn:" in page and "Dispatch:" not in page and ">Dispatch<" not in page


@pytest.mark.django_db
def test_the_lockout_page_is_vietnamese(vi_client, settings, auditor):
    for _attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        response = vi_client.post("/admin/login/", {"username": "kiemtoan", "password": "sai"})
    page = page_of(response)
    assert response.status_code == 429
    assert "Đăng nhập bị khóa" in page and "quá nhiều lần thử" in page and "Hãy thử lại sau 60 phút" in page
    assert "Account locked" not in page and "Please" not in page


@pytest.mark.django_db
def test_permissions_are_named_in_vietnamese_for_editors_and_readers(vi_client, auditor):
    role = Group.objects.get(name=roles.CLERK)
    vi_client.force_login(make_user("quantri", roles.ADMINISTRATOR))
    editing = page_of(vi_client.get(reverse("admin:auth_group_change", args=[role.pk])))
    assert "Được xem lượt gửi" in editing and "Can view delivery" not in editing
    assert "Được phát hành và gửi công văn đã phê duyệt" in editing
    vi_client.force_login(auditor)
    reading = page_of(vi_client.get(reverse("admin:auth_group_change", args=[role.pk])))
    assert "Được xem lượt gửi" in reading and "Can view" not in reading
