"""Deployment env values are encrypted at rest (orchestrator_site.encryption): the column becomes text
holding a Fernet token, and every existing row is re-saved so no plaintext stays behind."""

from django.db import migrations

import orchestrator_site.encryption


def encrypt_existing(apps, schema_editor):
    Deployment = apps.get_model("containers", "Deployment")
    # The field reads a legacy plain-JSON value and writes it back as a token.
    for deployment in Deployment.objects.only("pk", "env").iterator():
        Deployment.objects.filter(pk=deployment.pk).update(env=deployment.env)


class Migration(migrations.Migration):
    dependencies = [
        ("containers", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="deployment",
            name="env",
            field=orchestrator_site.encryption.EncryptedJSONField(blank=True, default=dict),
        ),
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop),
    ]
