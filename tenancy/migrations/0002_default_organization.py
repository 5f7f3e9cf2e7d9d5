"""The default organization, and every existing user in it.

Before tenancy everyone could do everything, so existing superusers become its admins and other
existing users its operators (they keep deploying); nobody loses access by upgrading. The rows
they made move into it in each app's own migration.
"""

from __future__ import annotations

from django.db import migrations


def forwards(apps, schema_editor):  # noqa: ANN001, ANN201 - migration signature
    Organization = apps.get_model("tenancy", "Organization")
    Membership = apps.get_model("tenancy", "Membership")
    User = apps.get_model("auth", "User")
    organization, _ = Organization.objects.get_or_create(slug="default", defaults={"name": "Default"})
    for user in User.objects.all():
        Membership.objects.get_or_create(
            user=user, organization=organization, defaults={"role": "admin" if user.is_superuser else "operator"}
        )


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
