"""Create the five staff roles as groups with their permissions (kept in step later by post_migrate)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_roles(apps, schema_editor):
    from notices.roles import ROLE_PERMISSIONS, WORKFLOW_PERMISSIONS, permissions_filter

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
        ("notices", "0004_audit_trigger"),
        ("recipients", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
