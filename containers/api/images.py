"""Images over HTTP: the ``/api/images/`` viewset (list, detail, delete, upload, pull) and the seed's ``GET /images``.

Every entry point calls the actions in ``containers.images``; errors become JSON through
``containers.api.errors``.
"""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import django_filters
from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from containers import images
from containers.models import Deployment, Image, actor_name
from containers.refusals import Refused, refuse
from orchestrator_site.schema import ErrorSerializer as ERROR
from tenancy.access import access
from tenancy.roles import READ
from tenancy.scope import scope

# Room for the multipart framing (boundaries, part headers) around the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class UploadTooLarge(Refused):
    status = 413


class LimitedUploadHandler(TemporaryFileUploadHandler):
    """Streams an upload to a temp file in ``FILE_UPLOAD_TEMP_DIR`` and refuses (413) one over
    ``IMAGE_UPLOAD_MAX_BYTES``: up front from the request's length, else as soon as the data passes it."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.received = 0

    def handle_raw_input(
        self, input_data: Any, META: dict[str, Any], content_length: int, boundary: Any, encoding: str | None = None
    ) -> None:
        if content_length > settings.IMAGE_UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD_BYTES:
            self._refuse()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.received > settings.IMAGE_UPLOAD_MAX_BYTES:
            self.upload_interrupted()  # deletes what was written so far
            self._refuse()
        super().receive_data_chunk(raw_data, start)

    def _refuse(self) -> None:
        limit = settings.IMAGE_UPLOAD_MAX_BYTES
        refuse(
            f"the file is larger than the upload limit of {limit} bytes (IMAGE_UPLOAD_MAX_BYTES)",
            actor=actor_name(getattr(self.request, "user", None)),
            field="file",
            exc=UploadTooLarge,
        )


class ImageSerializer(serializers.ModelSerializer):
    created = serializers.DateTimeField(source="image_created_at", read_only=True, allow_null=True)
    # Reads the prefetched deployments (see ImageViewSet.get_queryset): no query per image.
    used_by: Any = serializers.SlugRelatedField(source="deployments", slug_field="name", many=True, read_only=True)

    class Meta:
        model = Image
        fields = ["id", "reference", "docker_id", "size_bytes", "created", "source", "used_by"]
        read_only_fields = fields


class ImageUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A `docker save` tar.")
    replace = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Move tags that already name another image (administrators only; recorded as image.replaced)",
    )


class ImagePullSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=512, help_text="e.g. registry.example:5000/team/app:1.2")
    username = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["password"] and not attrs["username"]:
            raise serializers.ValidationError({"username": ["a password needs a username"]})
        return attrs


class ImageFilterSet(django_filters.FilterSet):
    reference = django_filters.CharFilter(lookup_expr="icontains", help_text="part of the reference")

    class Meta:
        model = Image
        fields = ["reference", "source"]


class ImageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Images the engine holds. Listing syncs from the engine first, so images loaded by hand appear."""

    serializer_class = ImageSerializer
    filterset_class = ImageFilterSet
    ordering_fields = ["reference", "size_bytes", "image_created_at", "added_at"]
    ordering = ["reference"]

    def get_queryset(self) -> QuerySet[Image]:
        # used_by lists deployment names: prefetched in one query, not one per image; only the
        # caller's deployments, since a shared image is used by other organizations too.
        who = access(self.request)
        return scope(Image.objects.all(), who).prefetch_related(
            Prefetch("deployments", queryset=scope(Deployment.objects.only("name", "image_id"), who))
        )

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        drf_request = super().initialize_request(request, *args, **kwargs)
        if self.action == "upload":
            # Set before anything reads the body (the CSRF check of a session login would).
            request.upload_handlers = [LimitedUploadHandler(request)]
        return drf_request

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        images.sync_images()
        return super().list(request, *args, **kwargs)

    def perform_destroy(self, instance: Image) -> None:
        who = access(self.request)
        images.delete_image(
            instance, actor=actor_name(self.request.user), organization=None if who.staff else who.organization
        )

    @extend_schema(
        request={"multipart/form-data": ImageUploadSerializer},
        responses={
            201: ImageSerializer(many=True),
            200: ImageSerializer(many=True),
            413: OpenApiResponse(ERROR, description="Larger than the limit"),
        },
    )
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser])
    def upload(self, request: Request) -> Response:
        """Upload a `docker save` tar (multipart field `file`); answers with the images it held."""
        serializer = ImageUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            loaded = images.upload_image(
                Path(upload.temporary_file_path()),
                actor=actor_name(request.user),
                replace=serializer.validated_data["replace"],
                user=request.user,
                organization=access(request).organization,
            )
        finally:
            upload.close()  # a temporary upload deletes its file on close
        # 200, not 201, when the archive brought nothing new.
        brought_new = len(loaded.already_present) < len(loaded.images)
        return Response(
            self._serialize(loaded.images), status=status.HTTP_201_CREATED if brought_new else status.HTTP_200_OK
        )

    @extend_schema(
        request=ImagePullSerializer,
        responses={201: ImageSerializer, 422: OpenApiResponse(ERROR, description="The registry refused the pull")},
    )
    @action(detail=False, methods=["post"], parser_classes=[JSONParser])
    def pull(self, request: Request) -> Response:
        """Pull an image from its registry; credentials are used for this pull only, never kept."""
        serializer = ImagePullSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        image = images.pull_image(
            data["reference"],
            data["username"],
            data["password"],
            actor=actor_name(request.user),
            user=request.user,
            organization=access(request).organization,
        )
        return Response(self._serialize([image])[0], status=status.HTTP_201_CREATED)

    def _serialize(self, rows: builtins.list[Image]) -> Any:
        fresh = self.get_queryset().filter(pk__in=[row.pk for row in rows])
        return ImageSerializer(fresh, many=True).data


# --- the seed's GET /images ---------------------------------------------------------------------


class SeedDeploymentSerializer(serializers.Serializer):
    name = serializers.CharField()
    replicas = serializers.IntegerField()
    state = serializers.CharField()
    running = serializers.IntegerField()


class SeedImageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    docker_id = serializers.CharField()
    size_bytes = serializers.IntegerField()
    created = serializers.DateTimeField(allow_null=True)
    desired_replicas = serializers.IntegerField()
    running = serializers.IntegerField()
    deployments = SeedDeploymentSerializer(many=True)


def _seed_item(usage: images.ImageUsage) -> dict[str, Any]:
    image = usage.image
    return {
        "id": image.pk,
        "reference": image.reference,
        "docker_id": image.docker_id,
        "size_bytes": image.size_bytes,
        "created": image.image_created_at,
        "desired_replicas": usage.desired_replicas,
        "running": usage.running,
        "deployments": [
            {
                "name": d.name,
                "replicas": d.replicas,
                "state": d.state,
                "running": usage.running_by_deployment.get(d.pk, 0),
            }
            for d in usage.deployments
        ],
    }


@extend_schema(responses=SeedImageSerializer(many=True), operation_id="seed_images")
@api_view(["GET"])
def seed_images(request: Request) -> Response:
    """Desired state and container counts per image (the prototype's ``GET /images``)."""
    who = access(request)
    if not who.staff and not who.can(READ):
        return Response([])
    usage = images.image_usage(None if who.staff else who.organization)
    return Response(SeedImageSerializer([_seed_item(item) for item in usage], many=True).data)


@extend_schema(exclude=True)  # the same answer; documented once, at /images
@api_view(["GET"])
def seed_images_slash(request: Request) -> Response:
    return seed_images(request._request)
