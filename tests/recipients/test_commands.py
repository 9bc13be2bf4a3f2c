from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from recipients.models import Organization, RecipientGroup
from recipients.seed import COMMUNES, PARTIAL_TAG
from tests.processes import run_python
from tests.recipients.conftest import csv_bytes, employer

pytestmark = pytest.mark.django_db


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


def test_seed_directory_is_idempotent_and_complete():
    call_command("seed_directory", stdout=StringIO())
    first = sorted(Organization.objects.values_list("name", "valid_from", "valid_to"))
    call_command("seed_directory", stdout=StringIO())
    assert sorted(Organization.objects.values_list("name", "valid_from", "valid_to")) == first

    assert Organization.objects.filter(kind="bhxh").count() == 23
    districts = Organization.objects.filter(kind="committee", level="district")
    assert districts.count() == 30 and set(districts.values_list("valid_to", flat=True)) == {datetime.date(2025, 6, 30)}
    communes = Organization.objects.filter(kind="committee", level="commune")
    assert communes.count() == len(COMMUNES) and all(
        PARTIAL_TAG in tags for tags in communes.values_list("tags", flat=True)
    )
    assert "chưa đầy đủ" in RecipientGroup.objects.get(name="UBND phường, xã").description
    assert RecipientGroup.objects.filter(name__in=["BHXH cơ sở", "Công an"]).count() == 2
    domains = {email.split("@")[1] for email in Organization.objects.values_list("emails__address", flat=True)}
    assert all(domain.endswith((".example.vn", ".example.com", ".example")) for domain in domains)
