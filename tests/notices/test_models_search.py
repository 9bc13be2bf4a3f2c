from __future__ import annotations

import unicodedata

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper
from django.db.models import Value
from django.db.models.sql import Query

from notices.models import AuditEvent, Delivery, Dispatch
from notices.models.search import Folded, folded_contains, folded_filter, postgresql_expression
from recipients.folding import fold
from recipients.models import Organization

pytestmark = pytest.mark.django_db
VIETNAMESE = "aàảãáạăằẳẵắặâầẩẫấậbcdđeèẻẽéẹêềểễếệghiìỉĩíịklmnoòỏõóọôồổỗốộơờởỡớợpqrstuùủũúụưừửữứựvxyỳỷỹýỵ"


def folded_in(database, text: str) -> str:
    """Return `text` folded by the database's own SQL for Folded."""
    compiler = Query(None).get_compiler(connection=database)
    sql, params = compiler.compile(Folded(Value(text)))
    with database.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        return cursor.fetchone()[0]


@pytest.fixture
def sqlite():
    database = SQLiteWrapper({**connection.settings_dict, "ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:",
                              "OPTIONS": {}, "TEST": {}}, alias="folding-sqlite")  # fmt: skip
    yield database
    database.close()


@pytest.mark.parametrize("text", [VIETNAMESE, VIETNAMESE.upper(), unicodedata.normalize("NFD", "Phường Ba Đình")])
def test_the_database_folds_exactly_as_python_does(text, sqlite):
    assert folded_in(connection, text) == fold(text)
    assert folded_in(sqlite, text) == fold(text)


def test_it_finds_ba_dinh_typed_without_accents(draft):
    Dispatch.objects.filter(pk=draft.pk).update(subject="Công an phường Ba Đình")
    assert list(folded_contains(Dispatch.objects.all(), ["subject"], "ba dinh")) == [draft]
    assert list(folded_contains(Dispatch.objects.all(), ["subject"], "BA ĐÌNH")) == [draft]
    assert not folded_contains(Dispatch.objects.all(), ["subject"], "ba dinh 2").exists()


def plan_of(queryset) -> str:
    """Return the PostgreSQL plan of `queryset` with only the bitmap scans a trigram index gives left to choose."""
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
def test_the_folded_searches_can_use_their_trigram_indexes(draft):
    stored = [
        (Dispatch.objects.all(), "search_subject", "dispatch_search_subject_trgm"),
        (Delivery.every_kind.all(), "search_name", "delivery_search_name_trgm"),
        (Organization.objects.all(), "search_name", "org_search_name_trgm"),
    ]
    for queryset, field, index in stored:
        plan = plan_of(queryset.filter(folded_filter([field], "ba dinh")))
        assert index in plan, plan
    plan = plan_of(folded_contains(AuditEvent.objects.all(), ["object_repr"], "ba dinh"))
    assert "auditevent_object_folded_trgm" in plan, plan
    assert postgresql_expression("x").startswith("lower(translate(x, '")


def test_saving_keeps_the_folded_subject_and_name(draft):
    assert Dispatch.objects.get(pk=draft.pk).search_subject == "phoi hop don doc dong bhxh, bhyt nam 2026"
    draft.subject = "Đôn đốc thu nợ quận Đống Đa"
    draft.save(update_fields=["subject"])
    assert Dispatch.objects.get(pk=draft.pk).search_subject == "don doc thu no quan dong da"
    delivery = Delivery.objects.create(dispatch=draft, organization_name="UBND phường Ô Chợ Dừa", address="a@b.vn")
    assert Delivery.objects.get(pk=delivery.pk).search_name == "ubnd phuong o cho dua"
    found = Dispatch.objects.filter(folded_filter(["search_subject"], "QUAN DONG DA"))
    assert list(found) == [draft]
