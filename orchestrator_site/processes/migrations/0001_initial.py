"""Takes over the tables health's 0004 renamed: state only, the rows stay where they are."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("health", "0004_move_process_records"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Heartbeat",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("component", models.CharField(max_length=32, unique=True)),
                        ("seen_at", models.DateTimeField()),
                        ("detail", models.JSONField(blank=True, default=dict)),
                    ],
                ),
                migrations.CreateModel(
                    name="DurationBucket",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("metric", models.CharField(max_length=32)),
                        ("le", models.FloatField()),
                        ("count", models.BigIntegerField(default=0)),
                        ("sum_s", models.FloatField(default=0.0)),
                    ],
                    options={
                        "constraints": [
                            models.UniqueConstraint(fields=("metric", "le"), name="health_durationbucket_metric_le")
                        ],
                    },
                ),
            ],
        ),
    ]
