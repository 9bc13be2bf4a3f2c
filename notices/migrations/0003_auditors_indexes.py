"""Partial indexes for the auditors' lists of a million deliveries.

Every list of deliveries reads one kind (the send history dispatch emails, the recall notices theirs): the
indexes of 0002 hold every kind, so an exact count or a deep page had to visit the table to check the kind.
These hold only the kind read, so a count is an index-only scan (with the visibility map after VACUUM) and a
deep page skips its offset over the index alone. Valid on PostgreSQL and SQLite.
"""

from django.db import migrations

PARTIAL_INDEXES = [
    ("delivery_dispatch_kind_id_idx", "notices_delivery (id) WHERE kind = 'dispatch'"),
    ("delivery_dispatch_kind_org_idx", "notices_delivery (organization_id, id) WHERE kind = 'dispatch'"),
    ("delivery_dispatch_kind_status_idx", "notices_delivery (status, id) WHERE kind = 'dispatch'"),
    ("delivery_dispatch_kind_created_idx", "notices_delivery (created_at, id) WHERE kind = 'dispatch'"),
    ("delivery_dispatch_kind_dispatch_idx", "notices_delivery (dispatch_id, id) WHERE kind = 'dispatch'"),
    ("delivery_recall_kind_id_idx", "notices_delivery (id) WHERE kind = 'recall'"),
]


class Migration(migrations.Migration):
    dependencies = [("notices", "0002_database_rules")]

    operations = [
        migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON {columns}", f"DROP INDEX IF EXISTS {name}")
        for name, columns in PARTIAL_INDEXES
    ]
