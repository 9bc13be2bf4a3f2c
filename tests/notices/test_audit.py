from __future__ import annotations

import threading

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
    assert AuditEvent.objects.get(seq=3).details == {"n": 2, "text": "Tiếng Việt"}


def test_an_intact_chain_verifies_and_prints_the_count(chain):
    assert "5 events" in verify()


def test_the_orm_refuses_to_change_or_delete_an_event(chain):
    event = AuditEvent.objects.get(seq=2)
    event.action = "nothing happened"
    with pytest.raises(AuditError, match="^Audit events are append-only: they cannot be changed.$"):
        event.save()
    with pytest.raises(AuditError, match="^Audit events are append-only: they cannot be deleted.$"):
        event.delete()
    with pytest.raises(AuditError, match="^Audit events are append-only: they cannot be updated.$"):
        AuditEvent.objects.filter(seq=2).update(action="x")
    with pytest.raises(AuditError, match="^Audit events are append-only: they cannot be deleted.$"):
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


def test_the_ip_address_of_the_request_is_recorded(rf, clerk):
    request = rf.get("/", REMOTE_ADDR="203.0.113.7")
    event = audit.record(clerk, "export", None, {"what": "register"}, request=request)
    event.refresh_from_db()
    assert event.ip == "203.0.113.7"
    assert event.compute_hash() == event.hash


# Each column the hash must cover, and an SQL change to it that an attacker with database access could make.
TAMPERED_COLUMNS = {
    "at": "at = at + interval '1 second'",
    "actor_id": "actor_id = 424242",
    "actor_name": "actor_name = 'someone-else'",
    "action": "action = 'nothing-happened'",
    "object_type": "object_type = 'auth.user'",
    "object_id": "object_id = '424242'",
    "object_repr": "object_repr = 'another object'",
    "ip": "ip = '198.51.100.9'",
    "details": 'details = \'{"n": 99, "text": "Tiếng Việt"}\'',
}


def test_the_tamper_list_names_every_column_the_hash_must_cover():
    chained = {"id", "seq", "prev_hash", "hash"}  # covered by the chain itself, not by one event's content
    assert set(TAMPERED_COLUMNS) == {field.column for field in AuditEvent._meta.fields} - chained


@postgresql_only
@pytest.mark.parametrize("column", list(TAMPERED_COLUMNS))
def test_a_change_to_any_column_names_that_event(chain, trigger_off, column):
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE notices_auditevent SET {TAMPERED_COLUMNS[column]} WHERE seq = 3")
    report = AuditEvent.objects.verify_chain()
    assert (report.bad_seq, report.problem) == (3, "its content does not match its hash: it was changed")


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_threads_recording_at_once_leave_a_chain_that_verifies(clerk):
    barrier, errors = threading.Barrier(2), []

    def record_many(name: str) -> None:
        try:
            barrier.wait()
            for i in range(15):
                AuditEvent.objects.record(clerk, f"{name}-{i}", None, {"i": i})
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=record_many, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    report = AuditEvent.objects.verify_chain()
    assert report.ok and report.count == 30
    assert sorted(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, 31))
