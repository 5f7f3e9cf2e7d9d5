"""Serializers of the probe, alert and autoscaler API: deployments by name, bad input named by field."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from rest_framework import serializers

from containers.models import Deployment
from health import alerts
from health.models import AlertDelivery, AlertRule, Autoscaler, Probe
from tenancy.scope import scope


class DeploymentField(serializers.SlugRelatedField):
    """A deployment by name, among the caller's organization's only (another's is "does not exist")."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(slug_field="name", queryset=Deployment.objects.all(), **kwargs)

    def get_queryset(self) -> Any:
        who = self.context.get("access")
        if who is None:
            return Deployment.objects.none()
        if who.staff:
            # Staff act in their current organization here: names are unique per organization only.
            return Deployment.objects.filter(organization_id=who.organization_id)
        return scope(Deployment.objects.all(), who)


class ProbeSerializer(serializers.ModelSerializer):
    deployment = DeploymentField()

    class Meta:
        model = Probe
        fields = [
            "id",
            "deployment",
            "kind",
            "type",
            "path",
            "expected_status",
            "timeout_s",
            "period_s",
            "failure_threshold",
            "enabled",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def validate_path(self, value: str) -> str:
        if value and not value.startswith("/"):
            raise serializers.ValidationError("the path must start with /")
        return value or "/"


class AlertRuleSerializer(serializers.ModelSerializer):
    deployment = DeploymentField(required=False, allow_null=True)
    event_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(alerts.KINDS)), allow_empty=False, max_length=len(alerts.KINDS)
    )
    emails = serializers.ListField(child=serializers.CharField(max_length=254), required=False, max_length=20)

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "event_kinds",
            "deployment",
            "webhook_url",
            "emails",
            "cooldown_s",
            "enabled",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def validate_webhook_url(self, value: str) -> str:
        problem = alerts.webhook_url_problem(value) if value else None
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_emails(self, value: list[str]) -> list[str]:
        for address in value:
            try:
                validate_email(address)
            except DjangoValidationError:
                raise serializers.ValidationError(f"{address!r} is not an email address") from None
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        webhook = attrs.get("webhook_url", getattr(self.instance, "webhook_url", ""))
        emails = attrs.get("emails", getattr(self.instance, "emails", []))
        if not webhook and not emails:
            raise serializers.ValidationError({"webhook_url": ["give a webhook URL or email addresses (or both)"]})
        return attrs


class AlertDeliverySerializer(serializers.ModelSerializer):
    event_kind = serializers.CharField(source="event.kind", read_only=True)

    class Meta:
        model = AlertDelivery
        fields = ["id", "rule", "event", "event_kind", "channel", "target", "status", "response_code", "error", "at"]


class AutoscalerSerializer(serializers.ModelSerializer):
    deployment = DeploymentField()

    class Meta:
        model = Autoscaler
        fields = [
            "id",
            "deployment",
            "enabled",
            "min_replicas",
            "max_replicas",
            "target_cpu_pct",
            "stabilization_s",
            "last_scaled_at",
            "created_at",
        ]
        read_only_fields = ["last_scaled_at", "created_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low = attrs.get("min_replicas", getattr(self.instance, "min_replicas", 1))
        high = attrs.get("max_replicas", getattr(self.instance, "max_replicas", 3))
        if low > high:
            raise serializers.ValidationError({"min_replicas": ["must not be above max_replicas"]})
        return attrs
