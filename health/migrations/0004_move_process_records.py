"""Heartbeat and DurationBucket moved to the bottom floor (orchestrator_site.processes): their tables are
renamed here and the models leave this app's state; processes' 0001 takes them into its own."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("health", "0003_probes_alerts_autoscaling"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name="heartbeat", table="processes_heartbeat"),
                migrations.AlterModelTable(name="durationbucket", table="processes_durationbucket"),
            ],
            state_operations=[
                migrations.DeleteModel(name="Heartbeat"),
                migrations.DeleteModel(name="DurationBucket"),
            ],
        ),
    ]
