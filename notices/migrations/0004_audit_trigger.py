"""On PostgreSQL, a trigger refuses every UPDATE and DELETE of an audit event (SQLite relies on the ORM guards)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION notices_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'notices_auditevent is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER notices_auditevent_append_only
    BEFORE UPDATE OR DELETE ON notices_auditevent
    FOR EACH ROW EXECUTE FUNCTION notices_auditevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS notices_auditevent_append_only ON notices_auditevent;
DROP FUNCTION IF EXISTS notices_auditevent_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("notices", "0003_workflow_audit")]
    operations = [migrations.RunPython(create_trigger, drop_trigger)]
