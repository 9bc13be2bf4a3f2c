"""The import command's audit and its refusal of hostile files (the rest of the command: test_commands.py)."""

from __future__ import annotations

import getpass
import logging
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from notices.audit import verify_chain
from notices.models import AuditEvent
from recipients.models import Organization
from tests.recipients.conftest import csv_bytes, employer, xlsx_with_sheet

pytestmark = pytest.mark.django_db


def test_a_command_line_import_names_the_command_and_the_os_user_in_the_audit_and_the_log(import_file, caplog):
    caplog.set_level(logging.INFO, logger="recipients.importing")
    call_command("import_recipients", str(import_file(csv_bytes([employer(1)]))), stdout=StringIO())

    (event,) = AuditEvent.objects.filter(action="import_directory")
    actor = f"manage.py import_recipients ({getpass.getuser()})"
    assert (event.actor_id, event.actor_name) == (None, actor)
    assert f"directory.csv by {actor}: created=1" in caplog.text and "by None" not in caplog.text
    assert verify_chain().bad_seq is None


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (xlsx_with_sheet("<row/>", '<dimension ref="A1:XFD1048576"/>'), "lon.xlsx", "more than 100 columns"),
        (csv_bytes([employer(1, name="x" * 200_000)]), "o-lon.csv", "a cell is longer than 10000 characters"),
        (b"PK\x03\x04" + b"\x00" * 200, "hong.xlsx", "not a readable .xlsx workbook"),
    ],
)
def test_a_hostile_or_damaged_file_fails_the_command_with_the_message(import_file, data, name, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_recipients", str(import_file(data, name)), stdout=StringIO(), stderr=StringIO())
    assert not Organization.objects.exists()
