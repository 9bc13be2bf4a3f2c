"""The settings: commands stay quiet, run-time files live under var/, production secures the session."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from config.celery import app
from tests.processes import run_python


def test_a_management_command_prints_nothing_on_stderr(db):
    result = run_python("manage.py", "check", LOG_LEVEL="INFO")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_the_beat_schedule_is_kept_under_var():
    schedule = Path(app.conf.beat_schedule_filename)
    assert schedule.is_absolute() and schedule.is_relative_to(settings.VAR_DIR)


def test_the_s3_storage_the_settings_name_is_installed():
    show_storage = "import django; django.setup(); from django.core.files.storage import storages; print(type(storages['default']))"
    result = run_python("-c", show_storage, AWS_STORAGE_BUCKET_NAME="congvan-test", AWS_S3_REGION_NAME="ap-southeast-1")
    assert result.returncode == 0, result.stderr
    assert "storages.backends.s3.S3Storage" in result.stdout


def test_production_settings_secure_the_session(monkeypatch):
    import importlib

    import config.settings as project_settings

    monkeypatch.setenv("DEBUG", "false")
    try:
        production = importlib.reload(project_settings)
        assert production.SESSION_COOKIE_SECURE and production.CSRF_COOKIE_SECURE
        assert production.SECURE_HSTS_SECONDS >= 31536000 and production.SECURE_SSL_REDIRECT
        assert production.SESSION_COOKIE_AGE <= 8 * 3600 and production.SESSION_SAVE_EVERY_REQUEST
    finally:
        monkeypatch.delenv("DEBUG")
        importlib.reload(project_settings)
