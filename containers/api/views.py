"""The DRF API for deployments, containers and events (under ``/api/``).

Views validate with the serializers and change state only through the action functions of
``containers.deployments``; errors those raise become JSON in ``containers.api.errors``.

Convergence is asynchronous (a Celery task queued on commit): ``POST /api/deployments/{id}/scale/``
and ``.../stop/`` answer 202 Accepted. With ``?wait=true`` (on create, update, scale and stop) the
view converges the deployment itself before answering (then 200, or 201 for a create), so the
answer shows the containers that now run.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from containers import deployments, engine, reconcile, rollouts
from containers.api.engine_flag import EngineStatePagination
from containers.api.serializers import (
    ContainerSerializer,
    DeploymentSerializer,
    EventSerializer,
    LogsSerializer,
    RevisionSerializer,
    RollbackSerializer,
    ScaleSerializer,
)
from containers.filtersets import ContainerFilterSet, DeploymentFilterSet, EventFilterSet
from containers.models import Container, Deployment, Event, actor_name
from orchestrator_site.env import parse_bool
from tenancy.access import access
from tenancy.scope import scope

WAIT = OpenApiParameter(
    "wait", OpenApiTypes.BOOL, description="Converge before answering and show the result (default false)"
)


def wants_wait(request: Request) -> bool:
    """``?wait=true``: converge synchronously; anything that is not a boolean is a 400 naming ``wait``."""
    try:
        return parse_bool(request.query_params.get("wait", ""))
    except ValueError:
        raise serializers.ValidationError({"wait": ["must be true or false"]}) from None


def deployments_queryset() -> QuerySet[Deployment]:
    """Deployments with what the serializer shows, in three queries whatever the number of rows.

    The image is joined (every row names it), running containers are counted by the database,
    and all the page's containers come in one prefetch instead of one query per row.
    """
    running = Q(containers__status=Container.Status.RUNNING, containers__generation=F("generation"))
    return (
        Deployment.objects.select_related("image")
        .annotate(running_replicas=Count("containers", filter=running))
        .prefetch_related(Prefetch("containers", queryset=Container.objects.order_by("created_at", "pk")))
    )


@extend_schema_view(
    list=extend_schema(summary="List deployments (desired state)"),
    retrieve=extend_schema(summary="One deployment with its containers"),
    create=extend_schema(summary="Create a deployment", parameters=[WAIT]),
    partial_update=extend_schema(
        summary="Change a deployment; a change to the container spec recreates its containers", parameters=[WAIT]
    ),
    destroy=extend_schema(summary="Remove a deployment and its containers"),
)
class DeploymentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = DeploymentSerializer
    pagination_class = EngineStatePagination
    filterset_class = DeploymentFilterSet
    ordering_fields = ["name", "state", "replicas", "created_at", "updated_at"]
    ordering = ["name"]
    # No PUT: every change is partial, so a client never resets what it did not mention.
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Deployment]:
        return scope(deployments_queryset(), access(self.request))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        wait = wants_wait(request)
        serializer = DeploymentSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        deployment = deployments.create_deployment(
            actor=actor_name(request.user), organization=access(request).organization, **serializer.with_defaults()
        )
        return self._answer(deployment, wait, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        wait = wants_wait(request)
        deployment = self.get_object()
        serializer = self.get_serializer(deployment, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = {key: value for key, value in serializer.validated_data.items() if key != "name"}
        deployments.update_deployment(deployment, actor=actor_name(request.user), **changes)
        return self._answer(deployment, wait, status.HTTP_200_OK)

    def perform_destroy(self, instance: Deployment) -> None:
        deployments.delete_deployment(instance, actor=actor_name(self.request.user))

    @extend_schema(
        summary="Set the number of replicas",
        request=ScaleSerializer,
        parameters=[WAIT],
        responses={200: DeploymentSerializer, 202: DeploymentSerializer},
    )
    @action(detail=True, methods=["post"])
    def scale(self, request: Request, pk: str | None = None) -> Response:
        wait = wants_wait(request)
        deployment = self.get_object()
        body = ScaleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        deployments.scale(deployment, body.validated_data["replicas"], actor=actor_name(request.user))
        return self._answer(deployment, wait, status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Stop every container; the deployment stays, with zero replicas",
        request=None,
        parameters=[WAIT],
        responses={200: DeploymentSerializer, 202: DeploymentSerializer},
    )
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str | None = None) -> Response:
        wait = wants_wait(request)
        deployment = self.get_object()
        deployments.stop(deployment, actor=actor_name(request.user))
        return self._answer(deployment, wait, status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Approve the capabilities the deployment asks for (administrators only); recreates its containers",
        request=None,
        parameters=[WAIT],
        responses={
            200: DeploymentSerializer,
            202: DeploymentSerializer,
            403: OpenApiResponse(description="Not an administrator"),
            409: OpenApiResponse(description="The deployment asks for no capabilities"),
        },
    )
    @action(detail=True, methods=["post"], url_path="approve-capabilities")
    def approve_capabilities(self, request: Request, pk: str | None = None) -> Response:
        wait = wants_wait(request)
        deployment = self.get_object()
        deployments.approve_capabilities(deployment, actor=actor_name(request.user), user=request.user)
        return self._answer(deployment, wait, status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Recreate the containers on the image their tag names now (containers run a pinned image id)",
        request=None,
        parameters=[WAIT],
        responses={200: DeploymentSerializer, 202: DeploymentSerializer},
    )
    @action(detail=True, methods=["post"])
    def rollout(self, request: Request, pk: str | None = None) -> Response:
        wait = wants_wait(request)
        deployment = self.get_object()
        deployments.rollout(deployment, actor=actor_name(request.user))
        return self._answer(deployment, wait, status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Roll back to an earlier revision (default: the previous one), through the rolling path",
        request=RollbackSerializer,
        parameters=[WAIT],
        responses={
            200: DeploymentSerializer,
            202: DeploymentSerializer,
            404: OpenApiResponse(description="No such revision is kept"),
            409: OpenApiResponse(description="That revision is the current one, or it does not fit"),
        },
    )
    @action(detail=True, methods=["post"])
    def rollback(self, request: Request, pk: str | None = None) -> Response:
        wait = wants_wait(request)
        deployment = self.get_object()
        body = RollbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        deployments.rollback(deployment, actor=actor_name(request.user), revision=body.validated_data.get("revision"))
        return self._answer(deployment, wait, status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Pause the deployment's rollouts: what runs stays until it is resumed",
        request=None,
        responses={202: DeploymentSerializer, 409: OpenApiResponse(description="Already paused")},
    )
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        deployment = self.get_object()
        deployments.pause(deployment, actor=actor_name(request.user))
        return self._answer(deployment, False, status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Resume a paused rollout (a failed one is tried again)",
        request=None,
        responses={202: DeploymentSerializer, 409: OpenApiResponse(description="Not paused")},
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        deployment = self.get_object()
        deployments.resume(deployment, actor=actor_name(request.user))
        return self._answer(deployment, False, status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="The deployment's kept revisions (the last 10), newest first",
        responses={200: RevisionSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def revisions(self, request: Request, pk: str | None = None) -> Response:
        deployment = self.get_object()
        rollouts.current_revision(deployment)
        kept = deployment.revisions.select_related("deployment").order_by("-number")
        return Response(RevisionSerializer(kept, many=True).data)

    def _answer(self, deployment: Deployment, wait: bool, code: int) -> Response:
        """The deployment as it is now, read again so the answer shows what the database holds."""
        if wait:
            reconcile.converge(deployment.pk)
            if code == status.HTTP_202_ACCEPTED:
                code = status.HTTP_200_OK
        fresh = self.get_queryset().get(pk=deployment.pk)
        created = code == status.HTTP_201_CREATED
        headers = {"Location": reverse("deployment-detail", kwargs={"pk": fresh.pk})} if created else None
        return Response(self.get_serializer(fresh).data, status=code, headers=headers)


@extend_schema_view(
    list=extend_schema(summary="List the containers the orchestrator runs"),
    retrieve=extend_schema(summary="One container"),
    destroy=extend_schema(summary="Remove a container for good: its deployment keeps one replica fewer"),
)
class ContainerViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = ContainerSerializer
    pagination_class = EngineStatePagination
    filterset_class = ContainerFilterSet
    ordering_fields = ["created_at", "name", "status", "host_port"]
    ordering = ["deployment_id", "created_at"]

    def get_queryset(self) -> QuerySet[Container]:
        # Each row shows its deployment's name and image: joined here, not fetched per row.
        return scope(Container.objects.select_related("deployment__image"), access(self.request))

    def perform_destroy(self, instance: Container) -> None:
        deployments.remove_container(instance, actor=actor_name(self.request.user))

    @extend_schema(summary="Restart the container on the engine", request=None, responses={200: ContainerSerializer})
    @action(detail=True, methods=["post"])
    def restart(self, request: Request, pk: str | None = None) -> Response:
        container = self.get_object()
        deployments.restart_container(container, actor=actor_name(request.user))
        return Response(self.get_serializer(container).data)

    @extend_schema(
        summary="The last lines of the container's output",
        parameters=[OpenApiParameter("tail", OpenApiTypes.INT, description="How many lines (1 to 5000, default 200)")],
        responses={200: LogsSerializer, 404: OpenApiResponse(description="No such container")},
    )
    @action(detail=True, methods=["get"])
    def logs(self, request: Request, pk: str | None = None) -> Response:
        container = self.get_object()
        query = LogsSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        tail = query.validated_data["tail"]
        return Response({"tail": tail, "logs": engine.container_logs(container.docker_id, tail=tail)})


@extend_schema_view(
    list=extend_schema(summary="The event log, newest first"),
    retrieve=extend_schema(summary="One event"),
)
class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """Read-only: the log is append-only, so there is nothing to create, change or delete here."""

    serializer_class = EventSerializer
    filterset_class = EventFilterSet
    ordering_fields = ["created_at", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[Event]:
        # Each row names its deployment: joined here, not fetched per row.
        return scope(Event.objects.select_related("deployment"), access(self.request))
