"""The console page for service endpoints: list, register (with a preview), change status, remove, through
the same actions as the API (registry.endpoints)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from containers.views.resource_pages import Column, Field, Resource
from registry import endpoints
from registry.api.serializers import ServiceEndpointSerializer
from registry.models import ServiceEndpoint


def save(serializer: serializers.Serializer[Any], instance: ServiceEndpoint | None, actor: str) -> ServiceEndpoint:
    data = dict(serializer.validated_data)
    organization = data.pop("organization", None) or serializer.context["access"].organization
    if instance is None:
        return endpoints.register(actor=actor, organization=organization, **data)
    return endpoints.set_status(instance, data["status"], actor=actor)


def preview(data: dict[str, Any], instance: ServiceEndpoint | None) -> list[str]:
    if instance is not None:
        return [f"{instance} would be {data['status']} (now {instance.status})."]
    protocol = data.get("protocol", ServiceEndpoint.Protocol.HTTP)
    status = data.get("status", ServiceEndpoint.Status.UNKNOWN)
    line = f"Registers {data['service']} at {data['host']}:{data['port']} ({protocol}), {status}."
    taken = ServiceEndpoint.objects.filter(service=data["service"], host=data["host"], port=data["port"]).exists()
    return [line, "Would be refused: that address is already registered for this service." if taken else "Free."]


ENDPOINTS = Resource(
    slug="endpoints",
    title="Service endpoints",
    singular="service endpoint",
    intro="Where each service answers. Containers of deployments with a port register themselves.",
    queryset=lambda: ServiceEndpoint.objects.select_related("container__deployment").order_by(
        "service", "host", "port"
    ),
    serializer=ServiceEndpointSerializer,
    fields=(
        Field("service", "Service", help="Lowercase letters, digits and dashes, e.g. billing."),
        Field("host", "Host", help="A host name or IP address, without scheme or port."),
        Field("port", "Port", "number"),
        Field("protocol", "Protocol", "select", choices=lambda: ServiceEndpoint.Protocol.choices),
        Field("status", "Status", "select", choices=lambda: ServiceEndpoint.Status.choices),
        Field("metadata", "Metadata", "json", 'A JSON object, e.g. {"zone": "a"}.', optional=True),
    ),
    edit_fields=("status",),
    columns=(
        Column("Service", lambda e: e.service),
        Column("Address", lambda e: f"{e.host}:{e.port} ({e.protocol})"),
        Column("Status", lambda e: e.status),
        Column("Container", lambda e: e.container.name if e.container else "registered by hand"),
    ),
    empty="No service endpoints registered.",
    save=save,
    delete=lambda endpoint, actor: endpoints.remove(endpoint, actor=actor),
    preview=preview,
    label_of=str,
)
