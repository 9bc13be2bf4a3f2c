"""Trigram indexes on the folded texts auditors search (PostgreSQL only; SQLite scans its small tables)."""

from django.db import migrations

from notices.models.search import postgresql_expression

INDEXES = [
    ("dispatch_subject_folded_trgm", "notices_dispatch", "subject"),
    ("auditevent_object_folded_trgm", "notices_auditevent", "object_repr"),
]


def create_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        expression = postgresql_expression(f'"{column}"')
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({expression}) gin_trgm_ops)")


def drop_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("notices", "0008_workflow")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
