from __future__ import annotations

import unicodedata

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper
from django.db.models import Value
from django.db.models.sql import Query

from notices.models import AuditEvent, Dispatch
from notices.models.search import Folded, folded_contains, postgresql_expression
from recipients.folding import fold

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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")
def test_the_folded_searches_can_use_their_trigram_indexes(draft):
    for queryset, field in [(Dispatch.objects.all(), "subject"), (AuditEvent.objects.all(), "object_repr")]:
        sql, params = folded_contains(queryset.order_by(), [field], "ba dinh").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")  # leaves the bitmap scans a trigram index gives
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "_folded_trgm" in plan, plan
    assert postgresql_expression("x").startswith("lower(translate(x, '")
