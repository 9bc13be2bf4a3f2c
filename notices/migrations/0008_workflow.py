"""The workflow permissions move into Dispatch.Meta.permissions (0005_roles created the same rows by hand)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("notices", "0008_security_files"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="dispatch",
            options={
                "ordering": ["-created_at"],
                "permissions": [
                    ("submit_dispatch", "Can submit a dispatch for approval"),
                    ("approve_dispatch", "Can approve or return a dispatch"),
                    ("issue_dispatch", "Can issue and send an approved dispatch"),
                    ("recall_dispatch", "Can recall an issued dispatch"),
                    ("edit_any_draft", "Can edit any draft, not only their own"),
                    ("export_records", "Can export the register, the send history and the audit trail"),
                ],
                "verbose_name": "dispatch",
                "verbose_name_plural": "dispatches",
            },
        ),
    ]
