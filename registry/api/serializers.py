"""Serializers for service endpoints: validate what clients send, shape what they get back."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from rest_framework import serializers

from registry.models import ServiceEndpoint

# Metadata is for labels a load balancer or a client reads (zone, weight, version), not for documents.
MAX_METADATA_BYTES = 4096
# RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens.
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_host(value: str) -> str:
    """A bare IP address or host name (no scheme, port, path or brackets), lower-cased."""
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    host = value.lower()
    if len(host) > 253 or not all(_LABEL.match(label) for label in host.split(".")) or host.replace(".", "").isdigit():
        raise serializers.ValidationError("must be a host name or an IP address, without scheme, port or path")
    return host


class ServiceEndpointSerializer(serializers.ModelSerializer):
    # None for an endpoint registered by hand (not one of the orchestrator's containers).
    container = serializers.CharField(source="container.docker_id", read_only=True, default=None, allow_null=True)
    deployment = serializers.CharField(
        source="container.deployment.name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = ServiceEndpoint
        fields = [
            "id",
            "service",
            "host",
            "port",
            "protocol",
            "status",
            "metadata",
            "container",
            "deployment",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Duplicates are a 409 from registry.endpoints.register, not the 400 a unique validator would give.
        validators: list[Any] = []

    def validate_host(self, value: str) -> str:
        return normalise_host(value)

    def validate_metadata(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be a JSON object")
        size = len(json.dumps(value, separators=(",", ":")))
        if size > MAX_METADATA_BYTES:
            raise serializers.ValidationError(f"is {size} bytes as JSON: at most {MAX_METADATA_BYTES}")
        return value


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ServiceEndpoint.Status.choices)
