"""The verify_audit_chain command: "intact" with the count, or exit 1 naming the first event that was broken."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from notices.models import AuditEvent

pytestmark = pytest.mark.django_db


def verify() -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    return out.getvalue()


def test_an_intact_chain_verifies_and_prints_the_count(chain):
    assert "5 events" in verify()


def test_a_changed_row_is_named(chain, trigger_off):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE notices_auditevent SET details = '{\"n\": 99}' WHERE seq = 3")
    with pytest.raises(CommandError, match=r"event #3: its content does not match") as exc:
        verify()
    assert exc.value.returncode == 1
    assert AuditEvent.objects.verify_chain().count == 2, "the events before the changed one verified"


def test_a_deleted_row_is_named(chain, trigger_off):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM notices_auditevent WHERE seq = 2")
    with pytest.raises(CommandError, match=r"event #3: expected event #2"):
        verify()
    assert AuditEvent.objects.verify_chain().count == 1


def test_reordered_rows_are_named(chain, trigger_off):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE notices_auditevent SET seq = 1000 WHERE seq = 2")
        cursor.execute("UPDATE notices_auditevent SET seq = 2 WHERE seq = 4")
        cursor.execute("UPDATE notices_auditevent SET seq = 4 WHERE seq = 1000")
    with pytest.raises(CommandError, match=r"event #2: its previous hash does not match"):
        verify()
    assert AuditEvent.objects.verify_chain().count == 1


def test_a_row_rewritten_with_a_fresh_hash_breaks_the_next_link(chain, trigger_off):
    forged = AuditEvent.objects.get(seq=3)
    forged.details = {"n": 99}
    forged.hash = forged.compute_hash()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notices_auditevent SET details = %s, hash = %s WHERE seq = 3", ['{"n": 99}', forged.hash]
        )
    with pytest.raises(CommandError, match=r"event #4: its previous hash"):
        verify()


def test_a_row_inserted_out_of_order_is_named(chain, trigger_off):
    last = AuditEvent.objects.get(seq=5)
    intruder = AuditEvent(seq=6, action="login", prev_hash=chain[2].hash, at=last.at)
    intruder.hash = intruder.compute_hash()
    intruder.save()
    with pytest.raises(CommandError, match=r"event #6"):
        verify()
