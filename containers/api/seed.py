"""The seed prototype's container paths, answered at exactly the paths its clients call.

``GET /containers``, ``POST /containers/{image}/start``, ``POST /containers/{image}/stop`` and
``DELETE /containers/{id}``. Image references contain ``/`` and ``:``; the paths take them whole.
They run on the same action functions as the console and ``/api/``, and need authentication.

``start`` converges before answering. Statuses: 201 when it started containers (``failed`` lists
any that could not start, so a partial start is 201 with a non-empty ``failed``); 502 when none
started and some failed (the desired state is kept and retried with crash-loop backoff; stop the
image to give up); 409 when the host has no room (admission); 404 for an image the orchestrator
does not know; 400 naming the field (``count``, ``resources.cpu_limit``, ``body``) for bad input.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.http.request import RawPostDataException
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from containers import deployments
from containers.api import paging
from containers.api.engine_flag import EngineStateSerializer, engine_object
from containers.api.serializers import (
    DeploymentSerializer,
    SeedContainerSerializer,
    SeedStartSerializer,
    SeedStopSerializer,
    container_url,
)
from containers.api.views import deployments_queryset
from containers.images import MAX_NAME_LENGTH
from containers.models import Container, Deployment, actor_name
from orchestrator_site.schema import ErrorSerializer
from tenancy.access import Access, access
from tenancy.permissions import require
from tenancy.scope import scope

_HEX_PREFIX = re.compile(r"^[0-9a-f]{12,64}$")
IMAGE = OpenApiParameter(
    "image", OpenApiTypes.STR, OpenApiParameter.PATH, description="Image reference, e.g. registry:5000/team/app:1.2"
)
ERROR = OpenApiResponse(ErrorSerializer, description="What is wrong, and with which field")
STARTED_CONTAINER = inline_serializer(
    "SeedStartedContainer",
    {
        "id": serializers.CharField(),
        "name": serializers.CharField(),
        "status": serializers.CharField(),
        "host_port": serializers.IntegerField(allow_null=True),
        "url": serializers.URLField(allow_null=True),
    },
)
START_RESULT = inline_serializer(
    "SeedStartResult",
    {
        "started": serializers.ListField(child=serializers.CharField(), help_text="Docker ids started by this call"),
        "deployment": DeploymentSerializer(),
        "containers": serializers.ListField(child=STARTED_CONTAINER),
        "failed": serializers.ListField(child=serializers.CharField(), help_text="Why some could not start"),
    },
)
STOP_RESULT = inline_serializer(
    "SeedStopResult",
    {
        "stopped": serializers.BooleanField(),
        "image": serializers.CharField(),
        "containers": serializers.ListField(child=serializers.CharField(), help_text="Docker ids removed"),
        "deployments": serializers.ListField(child=serializers.DictField()),
    },
)


def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object, whatever the Content-Type says; empty means ``{}``."""
    try:
        raw = request.body
    except RawPostDataException:
        raise ValidationError({"body": ["must be a JSON object"]}) from None
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError({"body": ["is not valid JSON"]}) from None
    if not isinstance(data, dict):
        raise ValidationError({"body": ["must be a JSON object"]})
    return data


def flat_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """``{"resources": {"cpu_limit": [...]}}`` -> ``{"resources.cpu_limit": [...]}``, as the seed's clients expect."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            flat.update(flat_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(message) for message in messages]}


def validated(serializer_class: type[serializers.Serializer], data: dict[str, Any]) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ValidationError(flat_errors(serializer.errors))
    return dict(serializer.validated_data)


def checked_image(image: str) -> str:
    """The image of the path; a reference longer than any image's is a 400 naming ``image``, without echoing it."""
    if len(image) > MAX_NAME_LENGTH:
        raise ValidationError({"image": [f"is {len(image)} characters long: at most {MAX_NAME_LENGTH}"]})
    return image


def find_container(key: str, who: Access, field: str = "id") -> Container:
    """One of the caller's containers by Docker id (full or a prefix of at least 12), by name, or by its row's id."""
    rows = scope(Container.objects.select_related("deployment__image"), who)
    lowered = key.lower()
    if _HEX_PREFIX.match(lowered):
        matches = list(rows.filter(docker_id__startswith=lowered)[:2])
        if len(matches) > 1:
            raise ValidationError({field: [f"{key!r} matches more than one container; give more of the id"]})
        if matches:
            return matches[0]
    by_name = rows.filter(name=key).first()
    if by_name is not None:
        return by_name
    # Row ids are bigints: a longer run of digits is not one (and would overflow the query).
    if key.isdigit() and len(key) <= 18:
        by_pk = rows.filter(pk=int(key)).first()
        if by_pk is not None:
            return by_pk
    raise deployments.NotFound(f"no container {key!r}", field=field)


def deployment_summary(deployment: Deployment) -> dict[str, Any]:
    return {"id": deployment.pk, "name": deployment.name, "replicas": deployment.replicas, "state": deployment.state}


class ContainersView(APIView):
    """``GET /containers``: every container the orchestrator runs."""

    @extend_schema(
        operation_id="seed_containers_list",
        tags=["seed"],
        summary="Every managed container (the seed's list), a page at a time",
        parameters=paging.PARAMETERS,
        responses=inline_serializer(
            "SeedContainerList",
            {
                "containers": SeedContainerSerializer(many=True),
                "total": serializers.IntegerField(help_text="Every managed container, not just this page"),
                "limit": serializers.IntegerField(),
                "offset": serializers.IntegerField(),
                "engine": EngineStateSerializer,
            },
        ),
    )
    def get(self, request: Request) -> Response:
        page = paging.window(request)
        # Each row shows its deployment's name, limits and image: joined, not fetched per row.
        rows = scope(Container.objects.select_related("deployment__image"), access(request)).order_by(
            "deployment__name", "created_at", "pk"
        )
        data = SeedContainerSerializer(rows[page.offset : page.offset + page.limit], many=True).data
        return Response({"containers": data, "total": rows.count(), **page.as_dict(), "engine": engine_object()})


class StartImageView(APIView):
    """``POST /containers/{image}/start``: add ``count`` containers of the image and wait until they run."""

    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="seed_image_start",
        tags=["seed"],
        summary="Start containers of an image (converges before answering)",
        parameters=[IMAGE],
        request=SeedStartSerializer,
        responses={
            201: START_RESULT,
            400: ERROR,
            404: ERROR,
            409: ERROR,
            502: OpenApiResponse(START_RESULT, description="None started; `error` and `failed` say why"),
        },
    )
    def post(self, request: Request, image: str) -> Response:
        require(request)
        who = access(request)
        image = checked_image(image)
        values = validated(SeedStartSerializer, json_body(request))
        resources = values.get("resources") or {}
        result = deployments.start_image(
            image,
            values["count"],
            cpu_limit=resources.get("cpu_limit"),
            memory_limit_bytes=resources.get("memory_limit"),
            container_port=values.get("port"),
            actor=actor_name(request.user),
            organization=who.organization,
        )
        fresh = deployments_queryset().filter(pk=result.deployment.pk).first()
        if fresh is None:
            raise deployments.NotFound(f"{result.deployment.name} was deleted while this start ran", field="image")
        ours = {c.docker_id for c in result.containers}
        started = [c for c in fresh.containers.all() if c.docker_id in ours]
        body: dict[str, Any] = {
            "started": [c.docker_id for c in started],
            "deployment": DeploymentSerializer(fresh).data,
            "containers": [
                {
                    "id": c.docker_id,
                    "name": c.name,
                    "status": c.status,
                    "host_port": c.host_port,
                    "url": container_url(c),
                }
                for c in started
            ],
            "failed": list(result.failed),
        }
        if not started and result.failed:
            body["error"] = f"no container started: {result.failed[0]}"
            return Response(body, status=status.HTTP_502_BAD_GATEWAY)
        return Response(body, status=status.HTTP_201_CREATED)


class StopImageView(APIView):
    """``POST /containers/{image}/stop``: stop every container of the image (or, with ``instanceId``, one)."""

    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="seed_image_stop",
        tags=["seed"],
        summary="Stop the containers of an image (converges before answering)",
        parameters=[IMAGE],
        request=SeedStopSerializer,
        responses={200: STOP_RESULT, 400: ERROR, 404: ERROR},
    )
    def post(self, request: Request, image: str) -> Response:
        require(request)
        who = access(request)
        image = checked_image(image)
        values = validated(SeedStopSerializer, json_body(request))
        actor = actor_name(request.user)
        if values.get("instanceId"):
            container = find_container(values["instanceId"], who, field="instanceId")
            if container.deployment.image.reference != image:
                raise deployments.NotFound(
                    f"container {values['instanceId']!r} does not run {image}", field="instanceId"
                )
            deployments.remove_container(container, actor=actor)
            return Response(
                {
                    "stopped": True,
                    "image": image,
                    "containers": [container.docker_id],
                    "deployments": [deployment_summary(container.deployment)],
                }
            )
        stopped = deployments.stop_image(image, actor=actor, organization=who.organization)
        return Response(
            {
                "stopped": True,
                "image": image,
                "containers": stopped.removed,
                "deployments": [deployment_summary(d) for d in stopped.deployments],
            }
        )


class ContainerView(APIView):
    """``DELETE /containers/{id}``: remove one container for good; its deployment keeps one replica fewer."""

    @extend_schema(
        operation_id="seed_container_delete",
        tags=["seed"],
        summary="Remove one container",
        parameters=[
            OpenApiParameter(
                "id",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="Docker id (full, or at least 12 characters), container name, or row id",
            )
        ],
        responses={
            200: inline_serializer(
                "SeedDeleteResult",
                {
                    "deleted": serializers.BooleanField(),
                    "container_id": serializers.CharField(),
                    "name": serializers.CharField(),
                    "deployment": serializers.CharField(),
                    "replicas": serializers.IntegerField(help_text="The deployment's replicas now"),
                },
            ),
            404: ERROR,
        },
    )
    def delete(self, request: Request, id: str) -> Response:
        container = find_container(id, access(request))
        require(request)
        deployments.remove_container(container, actor=actor_name(request.user))
        deployment = container.deployment
        return Response(
            {
                "deleted": True,
                "container_id": container.docker_id,
                "name": container.name,
                "deployment": deployment.name,
                "replicas": deployment.replicas,
            }
        )
