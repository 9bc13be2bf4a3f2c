from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

from notices.models import DispatchStatus


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
SOURCES = ["manage.py", "config", "notices", "recipients", "templates"]


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
