"""Deliveries get a kind (dispatch email, test copy, recall notice); recall notices become deliveries."""

from django.db import migrations, models

RECALL_STATUS = {"queued": "queued", "sending": "queued", "sent": "sent", "failed": "failed"}


def recall_notices_to_deliveries(apps, schema_editor):
    """Copy every recall notice into a delivery of the kind "recall", with its history in one event."""
    RecallNotice = apps.get_model("notices", "RecallNotice")
    Delivery = apps.get_model("notices", "Delivery")
    DeliveryEvent = apps.get_model("notices", "DeliveryEvent")
    for notice in RecallNotice.objects.select_related("delivery").iterator():
        delivery = Delivery.objects.create(
            dispatch_id=notice.dispatch_id, kind="recall", organization_id=notice.delivery.organization_id,
            organization_name=notice.delivery.organization_name, address=notice.address,
            status=RECALL_STATUS[notice.status], attempts=notice.attempts, last_error=notice.last_error,
            created_at=notice.created_at, updated_at=notice.sent_at or notice.created_at, sent_at=notice.sent_at,
        )  # fmt: skip
        DeliveryEvent.objects.create(delivery=delivery, type=delivery.status, at=delivery.updated_at,
                                     detail="moved from the recall notices table")  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [("notices", "0008_auditors")]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="kind",
            field=models.CharField(
                choices=[("dispatch", "Dispatch"), ("test", "Test copy"), ("recall", "Recall notice")],
                default="dispatch",
                max_length=10,
                verbose_name="kind",
            ),
        ),
        migrations.RemoveConstraint(model_name="delivery", name="delivery_one_per_address"),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "dispatch")),
                fields=("dispatch", "address"),
                name="delivery_one_per_address",
            ),
        ),
        migrations.AddConstraint(
            model_name="delivery",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "recall")),
                fields=("dispatch", "address"),
                name="delivery_one_recall_per_address",
            ),
        ),
        migrations.RunPython(recall_notices_to_deliveries, migrations.RunPython.noop),
        migrations.DeleteModel(name="RecallNotice"),
        migrations.CreateModel(
            name="RecallNotice",
            fields=[],
            options={
                "verbose_name": "recall notice",
                "verbose_name_plural": "recall notices",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },  # fmt: skip
            bases=("notices.delivery",),
        ),
    ]
