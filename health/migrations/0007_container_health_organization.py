"""Each container's health row carries its container's organization: the fleet page counts an organization's
containers per class from an index (organization, health_class) instead of joining every row to its
container. Existing rows take their container's; 0008 then makes the column required (apart, because
PostgreSQL refuses to alter a table with the rows' foreign-key checks still pending in the same transaction)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def from_containers(apps, schema_editor):
    ContainerHealth = apps.get_model("health", "ContainerHealth")
    Container = apps.get_model("containers", "Container")
    owner = Container.objects.filter(pk=OuterRef("container_id")).values("organization_id")[:1]
    ContainerHealth.objects.update(organization_id=Subquery(owner))


class Migration(migrations.Migration):

    dependencies = [
        ("health", "0006_alert_rule_organization"),
        ("containers", "0009_container_organization_required"),
        ("tenancy", "0002_default_organization"),
    ]

    operations = [
        migrations.AddField(
            model_name="containerhealth",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenancy.organization",
            ),
        ),
        migrations.RunPython(from_containers, migrations.RunPython.noop),
    ]
