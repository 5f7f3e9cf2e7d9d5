"""The health app's models, one module per job: sampling (current health, snapshots, rollups), probes,
alerts and autoscaling. They all keep the ``health`` app label, so the split needed no migration."""

from __future__ import annotations

from health.models.alerts import AlertCursor, AlertDelivery, AlertRule
from health.models.autoscaling import Autoscaler
from health.models.probes import Probe, ProbeResult
from health.models.sampling import ContainerHealth, HealthClass, HourRollup, MinuteRollup, Rollup, Snapshot

__all__ = [
    "AlertCursor",
    "AlertDelivery",
    "AlertRule",
    "Autoscaler",
    "ContainerHealth",
    "HealthClass",
    "HourRollup",
    "MinuteRollup",
    "Probe",
    "ProbeResult",
    "Rollup",
    "Snapshot",
]
