"""What the models' Meta cannot say: the auditors' indexes, the append-only audit trigger and trigram search
indexes (PostgreSQL), and the five staff roles with their permissions (kept in step later by post_migrate)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from notices.models.search import postgresql_expression
from notices.roles import ROLE_PERMISSIONS, WORKFLOW_PERMISSIONS, permissions_filter

# Indexes for the auditors' lists on a million deliveries (valid on PostgreSQL and SQLite).
AUDIT_INDEXES = [
    ("delivery_address_idx", "notices_delivery (address)"),
    ("delivery_org_id_idx", "notices_delivery (organization_id, id)"),
    ("delivery_dispatch_id_idx", "notices_delivery (dispatch_id, id)"),
    ("delivery_status_id_idx", "notices_delivery (status, id)"),
    ("delivery_created_id_idx", "notices_delivery (created_at, id)"),
    ("delivery_dispatch_sent_idx", "notices_delivery (dispatch_id, sent_at)"),
    ("delivery_dispatch_ack_idx", "notices_delivery (dispatch_id, id) WHERE acknowledged_at IS NOT NULL"),
]
# Trigram indexes on the folded texts auditors search (PostgreSQL only; SQLite scans its small tables).
TRIGRAM_INDEXES = [
    ("dispatch_subject_folded_trgm", "notices_dispatch", "subject"),
    ("auditevent_object_folded_trgm", "notices_auditevent", "object_repr"),
]
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION notices_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'notices_auditevent is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER notices_auditevent_append_only
    BEFORE UPDATE OR DELETE ON notices_auditevent
    FOR EACH ROW EXECUTE FUNCTION notices_auditevent_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS notices_auditevent_append_only ON notices_auditevent;
DROP FUNCTION IF EXISTS notices_auditevent_append_only();
"""


def create_postgresql_rules(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(APPEND_ONLY, params=None)
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in TRIGRAM_INDEXES:
        expression = postgresql_expression(f'"{column}"')
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({expression}) gin_trgm_ops)")


def drop_postgresql_rules(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(DROP_APPEND_ONLY, params=None)
    for name, _table, _column in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    dispatch_type, _ = ContentType.objects.get_or_create(app_label="notices", model="dispatch")
    for codename, name in WORKFLOW_PERMISSIONS:
        Permission.objects.get_or_create(content_type=dispatch_type, codename=codename, defaults={"name": name})
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(permissions_filter(codenames)))


class Migration(migrations.Migration):
    dependencies = [
        ("notices", "0001_initial"),
        ("recipients", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        *(
            migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON {columns}", f"DROP INDEX IF EXISTS {name}")
            for name, columns in AUDIT_INDEXES
        ),
        migrations.RunPython(create_postgresql_rules, drop_postgresql_rules),
        migrations.RunPython(create_roles, migrations.RunPython.noop),
    ]
