"""The import command's audit and its refusal of hostile files (the rest of the command: test_commands.py)."""

from __future__ import annotations

import getpass
import logging
from io import StringIO

import pytest
from django.core.management import call_command

from notices.audit import verify_chain
from notices.models import AuditEvent
from tests.recipients.conftest import csv_bytes, employer

pytestmark = pytest.mark.django_db


def test_a_command_line_import_names_the_command_and_the_os_user_in_the_audit_and_the_log(import_file, caplog):
    caplog.set_level(logging.INFO, logger="recipients.importing")
    call_command("import_recipients", str(import_file(csv_bytes([employer(1)]))), stdout=StringIO())

    (event,) = AuditEvent.objects.filter(action="import_directory")
    actor = f"manage.py import_recipients ({getpass.getuser()})"
    assert (event.actor_id, event.actor_name) == (None, actor)
    assert f"directory.csv by {actor}: created=1" in caplog.text and "by None" not in caplog.text
    assert verify_chain().bad_seq is None
