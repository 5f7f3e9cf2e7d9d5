"""Alert rules, their deliveries, and the alert scanner's place in the event log."""

from __future__ import annotations

from django.db import models

from containers.models import Deployment
from tenancy.models import Organization, default_organization_id


class AlertRule(models.Model):
    """Which events to alert on (``event_kinds``, see :data:`health.alerts.KINDS`), for which deployment
    (all when empty), where to deliver (a webhook and/or email addresses), and the quiet time per deployment."""

    name = models.CharField(max_length=100)
    event_kinds = models.JSONField(default=list)
    deployment = models.ForeignKey(
        Deployment, null=True, blank=True, on_delete=models.CASCADE, related_name="alert_rules"
    )
    webhook_url = models.URLField(max_length=500, blank=True)
    emails = models.JSONField(default=list, blank=True)
    cooldown_s = models.PositiveIntegerField(default=300)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A rule without a deployment watches all of its organization's deployments, never another's.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="alert_rules", default=default_organization_id
    )

    tenancy_path = "organization"

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class AlertDelivery(models.Model):
    """One attempt to deliver one event for one rule on one channel (or its suppression by the cooldown)."""

    class Channel(models.TextChoices):
        WEBHOOK = "webhook"
        EMAIL = "email"

    class Status(models.TextChoices):
        # Claimed by a scan and being sent (outside the scan's transaction); counts for the cooldown.
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"
        SUPPRESSED = "suppressed"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey("containers.Event", on_delete=models.CASCADE, related_name="+")
    # The event's deployment, kept here for the cooldown check (per rule and deployment).
    deployment = models.ForeignKey(
        Deployment, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    target = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    response_code = models.IntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()

    tenancy_path = "rule__organization"

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "alert deliveries"
        indexes = [models.Index(fields=["rule", "deployment", "status", "at"])]

    def __str__(self) -> str:
        return f"{self.rule} {self.channel} {self.status} @ {self.at:%H:%M:%S}"


class AlertCursor(models.Model):
    """The id of the last event the alert scanner has looked at (one row)."""

    name = models.CharField(max_length=32, unique=True)
    last_event_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_event_id}"
