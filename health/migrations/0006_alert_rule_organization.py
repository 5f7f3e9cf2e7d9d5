"""Alert rules belong to an organization: their deployment's, or the default one for rules over all deployments."""

import django.db.models.deletion
from django.db import migrations, models

import tenancy.models


def assign(apps, schema_editor):  # noqa: ANN001, ANN201 - migration signature
    Organization = apps.get_model("tenancy", "Organization")
    AlertRule = apps.get_model("health", "AlertRule")
    default, _ = Organization.objects.get_or_create(slug="default", defaults={"name": "Default"})
    for rule in AlertRule.objects.select_related("deployment"):
        rule.organization_id = rule.deployment.organization_id if rule.deployment_id else default.pk
        rule.save(update_fields=["organization"])


class Migration(migrations.Migration):
    dependencies = [
        ("health", "0005_alert_delivery_pending"),
        ("containers", "0006_organizations"),
        ("tenancy", "0002_default_organization"),
    ]

    operations = [
        migrations.AddField(
            model_name="alertrule",
            name="organization",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="alert_rules", to="tenancy.organization"
            ),
        ),
        migrations.RunPython(assign, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="alertrule",
            name="organization",
            field=models.ForeignKey(
                default=tenancy.models.default_organization_id,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="alert_rules",
                to="tenancy.organization",
            ),
        ),
    ]
