"""The append-only audit trail (notices/models/audit.py): the hash chain, refused changes, and tampering named."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.db.utils import DatabaseError

from notices.models import AuditEvent
from notices.models.audit import AuditError

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")


def test_each_event_chains_to_the_previous_one(chain):
    assert chain[0].prev_hash == "0" * 64
    assert [e.prev_hash for e in chain[1:]] == [e.hash for e in chain[:-1]]
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5]
    assert chain[2].actor_name == "vanthu" and chain[2].object_type == "notices.dispatch"
    assert AuditEvent.objects.get(seq=3).details == {"n": 2, "text": "Tiếng Việt"}


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
