"""Containers carry their deployment's organization on their own row: the scope and the console's counts
by status read it from an index (organization, status) instead of joining every container to its
deployment. Existing rows take their deployment's; 0009 then makes the column required (apart, because
PostgreSQL refuses to alter a table with the rows' foreign-key checks still pending in the same transaction)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def from_deployments(apps, schema_editor):
    Container = apps.get_model("containers", "Container")
    Deployment = apps.get_model("containers", "Deployment")
    owner = Deployment.objects.filter(pk=OuterRef("deployment_id")).values("organization_id")[:1]
    Container.objects.update(organization_id=Subquery(owner))


class Migration(migrations.Migration):

    dependencies = [
        ("containers", "0007_event_org_latest_index"),
        ("tenancy", "0002_default_organization"),
    ]

    operations = [
        migrations.AddField(
            model_name="container",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="containers",
                to="tenancy.organization",
            ),
        ),
        migrations.RunPython(from_deployments, migrations.RunPython.noop),
    ]
