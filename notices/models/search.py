"""Accent-insensitive search in the database: "ba dinh" finds "Ba Đình".

The texts searched on big or busy lists are stored folded (`folded_field`, kept by the model's save() and by the
bulk writers) and searched with `folded_filter`: a LIKE on a plain column, held by a trigram index on PostgreSQL.
`Folded("name")` is the column as `recipients.folding.fold` reads it, computed by the query (PostgreSQL: with
`translate()` and `lower()`, behind an expression index; SQLite: `fold` itself, registered on the connection),
for the texts that are not stored folded (the append-only audit trail's object names).
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import CharField, F, Func, Q, QuerySet

from recipients.folding import fold

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

SQLITE_FUNCTION = "congvan_fold"


def folded_field(verbose_name: StrOrPromise, max_length: int) -> models.CharField:
    """Return the column holding another text folded (lower-cased, accents and đ removed), for search."""
    return models.CharField(verbose_name, max_length=max_length, blank=True, default="", db_default="", editable=False)


def keep_folded(instance: models.Model, source: str, target: str, save_kwargs: dict[str, Any]) -> None:
    """Set `target` to the folded `source` before a save (also when the save names `source` in update_fields)."""
    field = instance._meta.get_field(target)
    assert isinstance(field, models.CharField)
    setattr(instance, target, fold(getattr(instance, source) or "")[: field.max_length])
    fields = save_kwargs.get("update_fields")
    if fields is not None and source in fields:
        save_kwargs["update_fields"] = {*fields, target}


def folded_filter(fields: list[str], term: str) -> Q:
    """Return the condition "any of the stored folded `fields` contains the folded `term`"."""
    needle = fold(term.strip())
    matched = Q()
    for field in fields:
        matched |= Q(**{f"{field}__contains": needle})
    return matched


@cache
def translate_table() -> tuple[str, str]:
    """Return translate()'s (from, to): every accented Latin letter and its bare letter, then the lone marks.

    Characters in `from` beyond the length of `to` are deleted, which drops combining marks of decomposed text.
    """
    pairs = []
    for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        char = chr(code)
        folded = fold(char)
        if len(folded) == 1 and folded.isascii() and folded != char.lower():
            pairs.append((char, folded))
    marks = "".join(chr(code) for code in range(0x300, 0x370) if unicodedata.combining(chr(code)))
    return "".join(c for c, _ in pairs) + marks, "".join(f for _, f in pairs)


def postgresql_expression(column: str) -> str:
    """Return the SQL of the folded `column` (for an expression index that the searches can use)."""
    source, target = translate_table()
    return f"lower(translate({column}, '{source}', '{target}'))"


class Folded(Func):
    """The text of an expression lower-cased without diacritics."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template=postgresql_expression("%(expressions)s"))

    def as_sqlite(self, compiler, connection, **extra_context):
        connection.ensure_connection()
        connection.connection.create_function(SQLITE_FUNCTION, 1, sqlite_fold, deterministic=True)
        return self.as_sql(compiler, connection, function=SQLITE_FUNCTION)


def sqlite_fold(value: str | None) -> str | None:
    return None if value is None else fold(value)


def folded_contains(queryset: QuerySet, fields: list[str], term: str) -> QuerySet:
    """Return the rows of `queryset` where any of `fields` contains `term`, accents and case ignored."""
    needle = fold(term.strip())
    aliases = {f"{field}_folded": Folded(F(field)) for field in fields}
    matched = Q()
    for alias in aliases:
        matched |= Q(**{f"{alias}__contains": needle})
    return queryset.alias(**aliases).filter(matched)
