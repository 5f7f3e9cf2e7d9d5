"""Replica slots: every container gets a stable slot number, and each slot counts its restarts.

Existing containers are numbered 1, 2, ... per deployment, oldest first (the order reconcile plans in),
each slot starting at the container's recorded restart count.
"""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def number_existing_containers(apps: Any, schema_editor: Any) -> None:
    Container = apps.get_model("containers", "Container")
    ReplicaSlot = apps.get_model("containers", "ReplicaSlot")
    numbers: dict[int, int] = {}
    for row in Container.objects.order_by("deployment_id", "created_at", "pk").iterator():
        number = numbers[row.deployment_id] = numbers.get(row.deployment_id, 0) + 1
        Container.objects.filter(pk=row.pk).update(slot=number)
        ReplicaSlot.objects.create(deployment_id=row.deployment_id, number=number, restarts=row.restart_count)


class Migration(migrations.Migration):
    dependencies = [
        ("containers", "0003_lockdown_and_pinned_image"),
    ]

    operations = [
        migrations.AddField(
            model_name="container",
            name="slot",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="ReplicaSlot",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveIntegerField()),
                ("restarts", models.PositiveIntegerField(default=0)),
                (
                    "deployment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="slots", to="containers.deployment"
                    ),
                ),
            ],
            options={
                "ordering": ["deployment_id", "number"],
                "constraints": [models.UniqueConstraint(fields=("deployment", "number"), name="replica_slot_unique")],
            },
        ),
        migrations.RunPython(number_existing_containers, migrations.RunPython.noop),
    ]
