"""Endpoints and services belong to an organization: a managed container's to its deployment's, the rest to the default one."""

import django.db.models.deletion
from django.db import migrations, models

import tenancy.models


def assign(apps, schema_editor):  # noqa: ANN001, ANN201 - migration signature
    Organization = apps.get_model("tenancy", "Organization")
    ServiceEndpoint = apps.get_model("registry", "ServiceEndpoint")
    default, _ = Organization.objects.get_or_create(slug="default", defaults={"name": "Default"})
    for endpoint in ServiceEndpoint.objects.select_related("container__deployment"):
        endpoint.organization_id = (
            endpoint.container.deployment.organization_id if endpoint.container_id else default.pk
        )
        endpoint.save(update_fields=["organization"])
    Service = apps.get_model("registry", "Service")
    for service in Service.objects.all():
        owner = ServiceEndpoint.objects.filter(service=service.name).values_list("organization_id", flat=True).first()
        service.organization_id = owner or default.pk
        service.save(update_fields=["organization"])


class Migration(migrations.Migration):
    dependencies = [
        ("containers", "0006_organizations"),
        ("registry", "0002_services_and_index"),
        ("tenancy", "0002_default_organization"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="serviceendpoint", name="unique_service_address"),
        migrations.AddField(
            model_name="serviceendpoint",
            name="organization",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="endpoints", to="tenancy.organization"
            ),
        ),
        migrations.AddField(
            model_name="service",
            name="organization",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="services", to="tenancy.organization"
            ),
        ),
        migrations.RunPython(assign, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="service",
            name="organization",
            field=models.ForeignKey(
                default=tenancy.models.default_organization_id,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="services",
                to="tenancy.organization",
            ),
        ),
        migrations.AlterField(
            model_name="serviceendpoint",
            name="organization",
            field=models.ForeignKey(
                default=tenancy.models.default_organization_id,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="endpoints",
                to="tenancy.organization",
            ),
        ),
        migrations.AddConstraint(
            model_name="serviceendpoint",
            constraint=models.UniqueConstraint(
                fields=("organization", "service", "host", "port"), name="unique_service_address"
            ),
        ),
    ]
