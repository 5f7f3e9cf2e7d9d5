"""Serializers for deployments, containers and events, and the fields that parse what users type.

Validation lives here (``orchestrator_site.units`` and ``containers.limits`` turned into fields); changes go through
``containers.deployments`` in the views, never through ``serializer.save()``.
Env values are secrets: they are accepted but never written back (only ``env_keys`` are).
"""

from __future__ import annotations

import re
import shlex
from decimal import Decimal
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from containers import hooks, rollouts, strategy
from containers.api.engine_flag import EngineAvailableField
from containers.deployments import ALLOWED_CAPABILITIES
from containers.limits import replicas_problem
from containers.models import Container, Deployment, Event, Image, Revision
from containers.names import name_problem
from orchestrator_site.units import format_memory, parse_cpu, parse_memory
from tenancy.access import access

_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# What a deployment stores of a client's command and environment is capped (what is echoed is cut
# short by containers.api.errors).
MAX_COMMAND_ARGS = 256
MAX_COMMAND_CHARS = 32_768
MAX_ENV_VARS = 256
# A container without a published port has no URL.
NULLABLE_URI = {"type": "string", "format": "uri", "nullable": True}


@extend_schema_field(
    {"oneOf": [{"type": "string"}, {"type": "number"}], "example": "0.25", "description": "CPU cores (0.01 to 512)"}
)
class CpuLimitField(serializers.Field):
    """Fractional cores: ``"0.25"`` or ``0.25`` in, ``"0.25"`` out."""

    def to_internal_value(self, data: Any) -> Decimal:
        try:
            return parse_cpu(data)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value: Decimal) -> str:
        # normalize() turns the column's "0.100" into "0.1"; the f-string keeps "1" rather than "1E+0".
        return f"{Decimal(value).normalize():f}"


@extend_schema_field({"type": "string", "example": "128m", "description": "Memory: 64m, 512m, 1g (at least 6m)"})
class MemoryLimitField(serializers.Field):
    """A size: ``"128m"``, ``"1g"`` or a number of bytes in; the short form (``"128m"``) out."""

    def to_internal_value(self, data: Any) -> int:
        try:
            return parse_memory(data)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value: int) -> str:
        return format_memory(value)


@extend_schema_field(
    {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}],
        "description": "The container's command: a list of arguments, or one string split like a shell would",
    }
)
class CommandField(serializers.Field):
    """A list of strings, or one string split with ``shlex``; out, always the list."""

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, str):
            try:
                command = shlex.split(data)
            except ValueError as exc:
                raise serializers.ValidationError(f"cannot split the command: {exc}") from None
        elif isinstance(data, list) and all(isinstance(item, str) for item in data):
            command = list(data)
        else:
            raise serializers.ValidationError("must be a list of strings or a string")
        if len(command) > MAX_COMMAND_ARGS or sum(len(arg) for arg in command) > MAX_COMMAND_CHARS:
            raise serializers.ValidationError(
                f"at most {MAX_COMMAND_ARGS} arguments of {MAX_COMMAND_CHARS} characters in all"
            )
        return command

    def to_representation(self, value: list[str]) -> list[str]:
        return list(value)


class EnvField(serializers.DictField):
    """Environment variables: names like ``API_URL``, string values (never echoed back)."""

    child = serializers.CharField(allow_blank=True, max_length=32_768, trim_whitespace=False)

    def to_internal_value(self, data: Any) -> dict[str, str]:
        if isinstance(data, dict):
            for key, value in data.items():
                if not isinstance(value, str):
                    raise serializers.ValidationError({key: ["must be a string"]})
        if isinstance(data, dict) and len(data) > MAX_ENV_VARS:
            raise serializers.ValidationError(f"at most {MAX_ENV_VARS} variables")
        env = super().to_internal_value(data)
        bad = sorted(key for key in env if not _ENV_KEY.match(key))
        if bad:
            raise serializers.ValidationError(f"not a variable name: {', '.join(bad)}")
        return env


def check_replicas(value: int) -> None:
    problem = replicas_problem(value)
    if problem:
        raise serializers.ValidationError(problem)


def strategy_bounds(name: str) -> dict[str, Any]:
    """A strategy field's bounds (containers.strategy, shared with the console's form), optional."""
    low, high = strategy.BOUNDS[name]
    return {"min_value": low, "max_value": high, "required": False}


class ContainerBriefSerializer(serializers.ModelSerializer):
    """A container as listed inside its deployment."""

    class Meta:
        model = Container
        fields = ["id", "docker_id", "name", "status", "host_port", "generation"]
        read_only_fields = fields


class RolloutSerializer(serializers.Serializer):
    """Where the deployment's rollout stands."""

    phase = serializers.ChoiceField(choices=Deployment.RolloutPhase.choices)
    revision = serializers.IntegerField()
    replicas = serializers.IntegerField()
    updated = serializers.IntegerField(help_text="Containers of the current revision")
    ready = serializers.IntegerField(help_text="Of those, ready (for min_ready_seconds)")
    old = serializers.IntegerField(help_text="Containers of older revisions still there")
    paused = serializers.BooleanField()
    message = serializers.CharField()
    started_at = serializers.DateTimeField(allow_null=True)


class RevisionSerializer(serializers.ModelSerializer):
    """One kept revision: its template (env keys only), what changed, whether it is the current one."""

    template = serializers.SerializerMethodField()
    current = serializers.SerializerMethodField()

    class Meta:
        model = Revision
        fields = ["number", "current", "reason", "changed", "actor", "created_at", "completed_at", "template"]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_template(self, revision: Revision) -> dict[str, Any]:
        return rollouts.summary(revision)

    def get_current(self, revision: Revision) -> bool:
        return revision.number == revision.deployment.generation


class RollbackSerializer(serializers.Serializer):
    revision = serializers.IntegerField(
        min_value=1, required=False, help_text="The revision to return to (default: the one before the current)"
    )


@extend_schema_serializer(
    examples=[
        # On PATCH, sent unchanged, the name is refused (names never change): nothing is altered.
        OpenApiExample(
            "A small web deployment",
            value={
                "name": "web",
                "image": "orchestrator-demo:latest",
                "replicas": 1,
                "cpu_limit": "0.1",
                "memory_limit": "64m",
                "container_port": 8080,
            },
            request_only=True,
        )
    ]
)
class DeploymentSerializer(serializers.ModelSerializer):
    """Desired state. ``memory_limit`` is the short form, ``memory_limit_bytes`` the same in bytes."""

    image = serializers.SlugRelatedField(slug_field="reference", queryset=Image.objects.all())
    replicas = serializers.IntegerField(min_value=0, default=1, validators=[check_replicas])
    cpu_limit = CpuLimitField(required=False)
    memory_limit = MemoryLimitField(source="memory_limit_bytes", required=False)
    container_port = serializers.IntegerField(min_value=1, max_value=65535, allow_null=True, required=False)
    command = CommandField(required=False)
    env = EnvField(required=False, write_only=True)
    env_keys = serializers.SerializerMethodField()
    capabilities = serializers.ListField(
        child=serializers.ChoiceField(choices=ALLOWED_CAPABILITIES),
        required=False,
        max_length=len(ALLOWED_CAPABILITIES),
        help_text="Capabilities to give back after all are dropped; they apply once an administrator approves",
    )
    running_replicas = serializers.IntegerField(read_only=True, help_text="Containers running now (current spec)")
    containers = ContainerBriefSerializer(many=True, read_only=True)
    engine_available = EngineAvailableField()
    max_surge = serializers.IntegerField(**strategy_bounds("max_surge"))
    max_unavailable = serializers.IntegerField(**strategy_bounds("max_unavailable"))
    min_ready_seconds = serializers.IntegerField(**strategy_bounds("min_ready_seconds"))
    progress_deadline_s = serializers.IntegerField(**strategy_bounds("progress_deadline_s"))
    drain_timeout_s = serializers.FloatField(**strategy_bounds("drain_timeout_s"))
    stop_grace_s = serializers.IntegerField(**strategy_bounds("stop_grace_s"))
    rollout = serializers.SerializerMethodField()
    lb_url = serializers.SerializerMethodField()

    class Meta:
        model = Deployment
        fields = [
            "id", "name", "image", "replicas", "cpu_limit", "memory_limit", "memory_limit_bytes", "container_port",
            "command", "env", "env_keys", "restart_policy", "capabilities", "capabilities_approved",
            "read_only_root", "state", "generation", "image_docker_id", "running_replicas",
            "crash_count", "backoff_until", "last_error", "containers", "engine_available", "created_at", "updated_at",
            "max_surge", "max_unavailable", "min_ready_seconds", "progress_deadline_s", "drain_timeout_s",
            "stop_grace_s", "auto_rollback", "paused", "rollout", "lb_url",
        ]  # fmt: skip
        read_only_fields = [
            "memory_limit_bytes", "state", "generation", "crash_count", "backoff_until", "last_error",
            "created_at", "updated_at", "capabilities_approved", "image_docker_id", "paused",
        ]  # fmt: skip
        # The name's shape is checked by validate_name in plain words, instead of the slug pattern's
        # "Enter a valid slug"; uniqueness (within the caller's organization) stays a field error there.
        extra_kwargs: dict[str, dict[str, Any]] = {"name": {"validators": []}}

    def validate_capabilities(self, value: list[str]) -> list[str]:
        return sorted(set(value))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A rollout must be able to move: ``max_surge`` and ``max_unavailable`` may not both be 0."""
        surge = attrs.get("max_surge", getattr(self.instance, "max_surge", 1))
        unavailable = attrs.get("max_unavailable", getattr(self.instance, "max_unavailable", 0))
        if field := strategy.stall_field(attrs, surge, unavailable):
            raise serializers.ValidationError({field: [strategy.STALLED]})
        return attrs

    @extend_schema_field(RolloutSerializer)
    def get_rollout(self, deployment: Deployment) -> dict[str, Any]:
        return rollouts.status(deployment).as_dict()

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_lb_url(self, deployment: Deployment) -> str | None:
        """The service's load-balanced URL (null without a container port), from the floor above
        (``hooks.lb_urls``), asked once for every deployment of a list."""
        if deployment.container_port is None:
            return None
        # A list's rows share this serializer: the first row asks for the whole page.
        urls: dict[str, str] | None = getattr(self, "_lb_urls", None)
        if urls is None:
            listed = getattr(self.parent, "instance", None)
            names = [d.name for d in listed] if isinstance(listed, list | tuple) else [deployment.name]
            urls = hooks.lb_urls_for(names)
            self._lb_urls = urls
        if deployment.name not in urls:
            urls.update(hooks.lb_urls_for([deployment.name]))
        return urls.get(deployment.name)

    def get_env_keys(self, deployment: Deployment) -> list[str]:
        return sorted(deployment.env)

    def validate_name(self, value: str) -> str:
        if self.instance is not None and value != self.instance.name:
            raise serializers.ValidationError("cannot be changed; create a new deployment instead")
        if self.instance is None and (problem := name_problem(value)) is not None:
            raise serializers.ValidationError(problem)
        request = self.context.get("request")
        if self.instance is None and request is not None:
            # Names are unique per organization: another organization's "web" is neither a clash nor shown.
            if Deployment.objects.filter(organization=access(request).organization, name=value).exists():
                raise serializers.ValidationError("a deployment with this name already exists")
        return value

    def with_defaults(self) -> dict[str, Any]:
        """The validated values for a new deployment, with the configured default limits filled in."""
        values = dict(self.validated_data)
        values.setdefault("cpu_limit", settings.DEFAULT_CPU_LIMIT)
        values.setdefault("memory_limit_bytes", settings.DEFAULT_MEMORY_LIMIT)
        return values


# Swagger UI sends the example unchanged on Execute: it must never stop or remove anything.
@extend_schema_serializer(examples=[OpenApiExample("Two replicas", value={"replicas": 2}, request_only=True)])
class ScaleSerializer(serializers.Serializer):
    replicas = serializers.IntegerField(min_value=0, validators=[check_replicas])


class ContainerSerializer(serializers.ModelSerializer):
    """A container the orchestrator runs, as mirrored from the engine by the reconciler."""

    deployment_name = serializers.CharField(source="deployment.name", read_only=True)
    image = serializers.CharField(source="deployment.image.reference", read_only=True)
    short_id = serializers.CharField(read_only=True)
    url = serializers.SerializerMethodField()
    engine_available = EngineAvailableField()

    class Meta:
        model = Container
        fields = [
            "id", "docker_id", "short_id", "name", "deployment", "deployment_name", "image", "generation", "status",
            "host_port", "url", "exit_code", "slot", "restart_count", "started_at", "engine_available", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(NULLABLE_URI)
    def get_url(self, container: Container) -> str | None:
        return container_url(container)


def container_url(container: Container) -> str | None:
    """Where the container answers: its port is published on loopback only."""
    return f"http://127.0.0.1:{container.host_port}/" if container.host_port else None


class LogsSerializer(serializers.Serializer):
    """The ``?tail=`` of the logs action, and the shape of its answer."""

    tail = serializers.IntegerField(min_value=1, max_value=5000, default=200)
    logs = serializers.CharField(read_only=True)


class EventSerializer(serializers.ModelSerializer):
    """One line of the append-only event log."""

    deployment_name = serializers.CharField(source="deployment.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Event
        fields = [
            "id", "created_at", "actor", "kind", "message", "deployment", "deployment_name", "container_docker_id",
            "before", "after",
        ]  # fmt: skip
        read_only_fields = fields


# --- the seed's paths -------------------------------------------------------------------------


class SeedResourcesSerializer(serializers.Serializer):
    cpu_limit = CpuLimitField(required=False, allow_null=True)
    memory_limit = MemoryLimitField(required=False, allow_null=True)
    # Accepted by the seed's contract and ignored there too: Docker does not limit disk per container.
    disk_limit = serializers.CharField(required=False, allow_null=True, allow_blank=True, write_only=True)


class SeedStartSerializer(serializers.Serializer):
    """Body of ``POST /containers/{image}/start``."""

    count = serializers.IntegerField(min_value=1, default=1, validators=[check_replicas])
    resources = SeedResourcesSerializer(required=False, allow_null=True)
    port = serializers.IntegerField(
        min_value=1, max_value=65535, required=False, allow_null=True, help_text="The container port to publish"
    )


class SeedStopSerializer(serializers.Serializer):
    """Body of ``POST /containers/{image}/stop``: empty stops them all; the seed's ``instanceId`` stops one."""

    instanceId = serializers.CharField(required=False, max_length=128)  # the seed spells it so


class SeedContainerSerializer(serializers.Serializer):
    """A container as ``GET /containers`` lists it (the seed's fields plus ours)."""

    id = serializers.CharField(source="docker_id", help_text="The Docker id")
    name = serializers.CharField()
    image = serializers.CharField(source="deployment.image.reference")
    deployment = serializers.CharField(source="deployment.name")
    deployment_id = serializers.IntegerField()
    status = serializers.CharField()
    host_port = serializers.IntegerField(allow_null=True)
    url = serializers.SerializerMethodField()
    ports = serializers.SerializerMethodField()
    resources = serializers.SerializerMethodField()
    created = serializers.DateTimeField(source="created_at")
    created_at = serializers.DateTimeField()

    @extend_schema_field(NULLABLE_URI)
    def get_url(self, container: Container) -> str | None:
        return container_url(container)

    @extend_schema_field(
        {"type": "object", "additionalProperties": {"type": "integer"}, "example": {"8080/tcp": 32768}}
    )
    def get_ports(self, container: Container) -> dict[str, int]:
        port = container.deployment.container_port
        return {f"{port}/tcp": container.host_port} if port and container.host_port else {}

    @extend_schema_field(SeedResourcesSerializer)
    def get_resources(self, container: Container) -> dict[str, str]:
        deployment = container.deployment
        return {
            "cpu_limit": CpuLimitField().to_representation(deployment.cpu_limit),
            "memory_limit": format_memory(deployment.memory_limit_bytes),
        }
