import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notices", "0002_database_rules"),
        ("recipients", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="dispatch",
            name="personalised",
            field=models.BooleanField(default=False, help_text="Each organisation receives its own copy, filled from a merge data file.", verbose_name="personalised"),
        ),
        migrations.CreateModel(
            name='MergeFile',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('file', models.FileField(blank=True, upload_to='merge/', verbose_name='file')),
                ('original_name', models.CharField(max_length=255, verbose_name='original name')),
                ('sha256', models.CharField(blank=True, max_length=64, verbose_name='SHA-256')),
                ('match_key', models.CharField(choices=[('bhxh_code', 'BHXH unit code'), ('tax_code', 'tax code'), ('agency_code', 'agency code')], max_length=20, verbose_name='matched by')),
                ('columns', models.JSONField(default=list, help_text='[header, field name] pairs, in order.', verbose_name='columns')),
                ('row_count', models.PositiveIntegerField(default=0, verbose_name='rows')),
                ('problems', models.JSONField(default=list, verbose_name='problems found while reading')),
                ('uploaded_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='uploaded at')),
                ('removed_at', models.DateTimeField(blank=True, null=True, verbose_name='file removed at')),
                ('dispatch', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='merge_file', to='notices.dispatch', verbose_name='dispatch')),
                ('uploaded_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='uploaded by')),
            ],
            options={
                'verbose_name': 'merge data file',
                'verbose_name_plural': 'merge data files',
            },
        ),
        migrations.CreateModel(
            name='MergeRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('fields', models.JSONField(default=dict)),
                ('table', models.JSONField(default=list)),
                ('first_row', models.PositiveIntegerField()),
                ('row_numbers', models.JSONField(default=list)),
                ('dispatch', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='merge_records', to='notices.dispatch')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='recipients.organization')),
            ],
            options={
                'verbose_name': 'merge record',
                'verbose_name_plural': 'merge records',
                'constraints': [models.UniqueConstraint(fields=('dispatch', 'organization'), name='merge_record_one_per_organization')],
            },
        ),
    ]
