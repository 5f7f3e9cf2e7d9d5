"""The tenancy API: the caller's organizations (and, for staff, their quotas), members, tokens.

Querysets pass through ``tenancy.scope``; the actions in ``tenancy.members``, ``tenancy.tokens``
and ``tenancy.quotas`` check roles and write the audit records.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from tenancy import errors, members, quotas, tokens
from tenancy.access import access
from tenancy.api.serializers import (
    AddMemberSerializer,
    CreateTokenSerializer,
    MembershipSerializer,
    NewTokenSerializer,
    OrganizationSerializer,
    QuotaSerializer,
    RoleSerializer,
    TokenSerializer,
)
from tenancy.models import ApiToken, Membership, Organization
from tenancy.permissions import SELF_CHECKED
from tenancy.scope import scope


@extend_schema_view(
    list=extend_schema(summary="The organizations you belong to (staff: every one)"),
    retrieve=extend_schema(summary="One organization with its quotas"),
)
class OrganizationViewSet(viewsets.ReadOnlyModelViewSet):
    tenancy_capability = SELF_CHECKED
    serializer_class = OrganizationSerializer
    filterset_fields: list[str] = []

    def get_queryset(self) -> QuerySet[Organization]:
        current = access(self.request)
        if current.staff:
            return Organization.objects.all()
        if current.token is not None and current.organization_id is not None:
            return Organization.objects.filter(pk=current.organization_id)
        if current.user_id is None:
            return Organization.objects.none()
        return Organization.objects.filter(memberships__user_id=current.user_id)

    @extend_schema(summary="Change quotas (staff only); null removes a limit", request=QuotaSerializer)
    @action(detail=True, methods=["patch"])
    def quotas(self, request: Request, pk: str | None = None) -> Response:
        organization = self.get_object()
        body = QuotaSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        organization = quotas.set_quotas(organization, dict(body.validated_data), access=access(request))
        return Response(self.get_serializer(organization).data)


@extend_schema_view(
    list=extend_schema(summary="Members of your current organization"),
    retrieve=extend_schema(summary="One membership"),
    create=extend_schema(summary="Add an existing user (admins)", request=AddMemberSerializer),
    partial_update=extend_schema(summary="Change a member's role (admins)", request=RoleSerializer),
    destroy=extend_schema(summary="Remove a member (admins); the last admin stays"),
)
class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = MembershipSerializer
    tenancy_capability = SELF_CHECKED
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filterset_fields: list[str] = []
    ordering = ["user__username"]

    def get_queryset(self) -> QuerySet[Membership]:
        return scope(Membership.objects.select_related("user", "organization"), access(self.request))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = AddMemberSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        current = access(request)
        if current.organization is None:  # what members.require would refuse too: no role anywhere
            raise errors.Forbidden("you belong to no organization: there is none to add a member to")
        membership = members.add_member(
            current.organization, body.validated_data["username"], body.validated_data["role"], access=current
        )
        return Response(self.get_serializer(membership).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        body = RoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        members.change_role(membership, body.validated_data["role"], access=access(request))
        return Response(self.get_serializer(membership).data)

    def perform_destroy(self, instance: Membership) -> None:
        members.remove_member(instance, access=access(self.request))


@extend_schema_view(
    list=extend_schema(summary="Your API tokens (admins: every member's in the organization)"),
    retrieve=extend_schema(summary="One token (never its key)"),
    create=extend_schema(
        summary="Create a token; its key is in this answer only",
        request=CreateTokenSerializer,
        responses=NewTokenSerializer,
    ),
    destroy=extend_schema(summary="Revoke a token"),
)
class TokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = TokenSerializer
    tenancy_capability = SELF_CHECKED
    filterset_fields: list[str] = []
    ordering = ["-created"]

    def get_queryset(self) -> QuerySet[ApiToken]:
        return tokens.visible_tokens(access(self.request))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = CreateTokenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, key = tokens.create_token(access(request), **body.validated_data)
        data = NewTokenSerializer(token).data | {"key": key}
        return Response(data, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    def perform_destroy(self, instance: ApiToken) -> None:
        tokens.revoke_token(instance, access=access(self.request))

    @extend_schema(summary="Revoke a token (the same as DELETE)", request=None, responses=TokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        token = self.get_object()
        tokens.revoke_token(token, access=access(request))
        return Response(self.get_serializer(token).data)
