"""A trigram index on the organisation's folded name (PostgreSQL), so a search inside names reads an index.

The btree index of 0001 serves the exact and prefix matches the autocomplete ranks first; "ba dinh" inside
"BHXH cơ sở Ba Đình" needs the trigrams. SQLite scans the table, as before.
"""

from django.db import migrations

INDEX = "org_search_name_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON recipients_organization USING gin "
                          "(search_name gin_trgm_ops)")  # fmt: skip


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("recipients", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
