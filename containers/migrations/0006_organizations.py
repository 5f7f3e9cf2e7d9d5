"""Every deployment, event and image belongs to an organization: existing rows move into the default one.

The demo image stays shared (no organization); everything else that existed before belonged to
the one flat world, which is now the default organization.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import tenancy.models


def into_default(apps, schema_editor):  # noqa: ANN001, ANN201 - migration signature
    Organization = apps.get_model("tenancy", "Organization")
    Deployment = apps.get_model("containers", "Deployment")
    Event = apps.get_model("containers", "Event")
    Image = apps.get_model("containers", "Image")
    default, _ = Organization.objects.get_or_create(slug="default", defaults={"name": "Default"})
    Deployment.objects.update(organization=default)
    Event.objects.update(organization=default)
    Image.objects.exclude(reference=settings.DEMO_IMAGE).update(organization=default)


class Migration(migrations.Migration):
    dependencies = [
        ("containers", "0005_rollouts_and_revisions"),
        ("tenancy", "0002_default_organization"),
    ]

    operations = [
        migrations.AddField(
            model_name="deployment",
            name="organization",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deployments",
                to="tenancy.organization",
            ),
        ),
        migrations.AddField(
            model_name="event",
            name="organization",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="tenancy.organization",
            ),
        ),
        migrations.AddField(
            model_name="image",
            name="organization",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="images",
                to="tenancy.organization",
            ),
        ),
        migrations.RunPython(into_default, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="deployment",
            name="organization",
            field=models.ForeignKey(
                default=tenancy.models.default_organization_id,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deployments",
                to="tenancy.organization",
            ),
        ),
        migrations.AlterField(
            model_name="deployment",
            name="name",
            field=models.SlugField(max_length=63),
        ),
        migrations.AlterField(
            model_name="event",
            name="organization",
            field=models.ForeignKey(
                blank=True,
                default=tenancy.models.default_organization_id,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="tenancy.organization",
            ),
        ),
        migrations.AddConstraint(
            model_name="deployment",
            constraint=models.UniqueConstraint(fields=("organization", "name"), name="deployment_name_per_org"),
        ),
    ]
