"""The import_recipients command: its summary, row errors and options, its audit, and its refusal of hostile files."""

from __future__ import annotations

import getpass
import logging
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from notices.audit import verify_chain
from notices.models import AuditEvent
from recipients.models import Organization, RecipientGroup
from tests.processes import run_python
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


def call(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_recipients", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_prints_one_summary_line_and_imports(import_file):
    out, err = call(import_file(csv_bytes([employer(1), employer(2)])), "--group", "Đơn vị mới")
    assert out == "created=2 updated=0 unchanged=0 errors=0\n" and err == ""
    assert RecipientGroup.objects.get(name="Đơn vị mới").members.count() == 2


def test_it_prints_the_row_errors_writes_nothing_and_fails(import_file):
    path = import_file(csv_bytes([employer(1), employer(2, emails="khong-phai-email")]))
    with pytest.raises(CommandError, match="1 rows have errors"):
        call(path)
    assert not Organization.objects.exists()


def test_valid_only_imports_the_good_rows_and_lists_the_bad_ones(import_file):
    out, err = call(import_file(csv_bytes([employer(1), employer(2, kind="xyz")])), "--valid-only")
    assert out == "created=1 updated=0 unchanged=0 errors=1\n"
    assert "row 3: kind: Unknown kind “xyz”" in err


def test_the_kind_option_fills_rows_without_a_kind(import_file):
    call(import_file(csv_bytes([employer(1)], header=["name", "tax_code", "emails"])), "--kind", "agent")
    assert Organization.objects.get().kind == "agent"


def test_dry_run_reports_and_writes_nothing(import_file):
    out, err = call(import_file(csv_bytes([employer(1)])), "--dry-run")
    assert out.startswith("created=1 ") and "dry run" in err and not Organization.objects.exists()


def test_it_exits_non_zero_when_the_file_cannot_be_read(tmp_path):
    unreadable = tmp_path / "danh-ba.xls"
    unreadable.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    # A child process, so the exit code is the one a shell sees; it uses the test database, not `congvan`.
    result = run_python("manage.py", "import_recipients", str(unreadable), timeout=60)
    assert result.returncode != 0
    assert "Save As" in result.stderr and result.stdout == ""


def test_it_fails_on_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        call(tmp_path / "missing.csv")
