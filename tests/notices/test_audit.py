from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.utils import DatabaseError

from notices import audit
from notices.models import AuditEvent
from notices.models.audit import AuditError

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")


@pytest.fixture
def chain(clerk, draft):
    """Five events about the draft, recorded by the clerk."""
    return [audit.record(clerk, f"action-{i}", draft, {"n": i, "text": "Tiếng Việt"}) for i in range(5)]


@pytest.fixture
def trigger_off():
    """Let the test tamper with the table in SQL, as an attacker with database access would."""
    if connection.vendor != "postgresql":  # SQLite has no trigger to switch off
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE notices_auditevent DISABLE TRIGGER notices_auditevent_append_only")
    yield
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE notices_auditevent ENABLE TRIGGER notices_auditevent_append_only")


def verify() -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    return out.getvalue()


def test_each_event_chains_to_the_previous_one(chain):
    assert chain[0].prev_hash == "0" * 64
    assert [e.prev_hash for e in chain[1:]] == [e.hash for e in chain[:-1]]
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5]
    assert chain[2].actor_name == "vanthu" and chain[2].object_type == "notices.dispatch"


def test_an_intact_chain_verifies_and_prints_the_count(chain):
    assert "5 events" in verify()


def test_the_orm_refuses_to_change_or_delete_an_event(chain):
    event = AuditEvent.objects.get(seq=2)
    event.action = "nothing happened"
    with pytest.raises(AuditError):
        event.save()
    with pytest.raises(AuditError):
        event.delete()
    with pytest.raises(AuditError):
        AuditEvent.objects.filter(seq=2).update(action="x")
    with pytest.raises(AuditError):
        AuditEvent.objects.all().delete()


@postgresql_only
def test_the_database_trigger_refuses_update(chain):
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute("UPDATE notices_auditevent SET action = 'x' WHERE seq = 2")


@postgresql_only
def test_the_database_trigger_refuses_delete(chain):
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM notices_auditevent WHERE seq = 2")


def test_a_changed_row_is_named(chain, trigger_off):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE notices_auditevent SET details = '{\"n\": 99}' WHERE seq = 3")
    with pytest.raises(CommandError, match=r"event #3: its content does not match") as exc:
        verify()
    assert exc.value.returncode == 1


def test_a_deleted_row_is_named(chain, trigger_off):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM notices_auditevent WHERE seq = 2")
    with pytest.raises(CommandError, match=r"event #3: expected event #2"):
        verify()


def test_reordered_rows_are_named(chain, trigger_off):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE notices_auditevent SET seq = 1000 WHERE seq = 2")
        cursor.execute("UPDATE notices_auditevent SET seq = 2 WHERE seq = 4")
        cursor.execute("UPDATE notices_auditevent SET seq = 4 WHERE seq = 1000")
    with pytest.raises(CommandError, match=r"event #2: its previous hash does not match"):
        verify()


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


def test_the_ip_address_of_the_request_is_recorded(rf, clerk):
    request = rf.get("/", REMOTE_ADDR="203.0.113.7")
    event = audit.record(clerk, "export", None, {"what": "register"}, request=request)
    event.refresh_from_db()
    assert event.ip == "203.0.113.7"
    assert event.compute_hash() == event.hash
