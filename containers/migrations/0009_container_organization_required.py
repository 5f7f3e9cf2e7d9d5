"""The container's organization is required and indexed with its status (filled by 0008)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("containers", "0008_container_organization"),
    ]

    operations = [
        migrations.AlterField(
            model_name="container",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="containers",
                to="tenancy.organization",
            ),
        ),
        migrations.AddIndex(
            model_name="container",
            index=models.Index(fields=["organization", "status"], name="container_org_status"),
        ),
    ]
