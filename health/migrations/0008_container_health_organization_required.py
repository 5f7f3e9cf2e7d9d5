"""The health row's organization is required and indexed with its class (filled by 0007)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("health", "0007_container_health_organization"),
    ]

    operations = [
        migrations.AlterField(
            model_name="containerhealth",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenancy.organization",
            ),
        ),
        migrations.AddIndex(
            model_name="containerhealth",
            index=models.Index(fields=["organization", "health_class"], name="health_org_class"),
        ),
    ]
