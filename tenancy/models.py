"""Organizations (the prototype's customers), who belongs to them with which role, their API
tokens and their quotas.

Every object a customer owns (deployments, containers through them, images, endpoints, events,
alert rules, tokens) points at one :class:`Organization`; ``tenancy.scope`` filters by it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from knox.models import AbstractAuthToken

from tenancy.roles import Role

if TYPE_CHECKING:
    from django.db.models.fields.related_managers import RelatedManager

DEFAULT_SLUG = "default"


# knox's token manager is untyped, so django-stubs cannot resolve ApiToken's reverse manager; it is declared below.
class Organization(models.Model):  # type: ignore[django-manager-missing]
    """A customer. Its quota fields are limits on what its members may reserve; empty means no limit."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Quotas: checked (under a lock on this row) by every start, scale, edit and upload.
    quota_cpu = models.DecimalField(
        "CPU cores", max_digits=8, decimal_places=3, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    quota_memory_bytes = models.BigIntegerField(
        "memory (bytes)", null=True, blank=True, validators=[MinValueValidator(0)]
    )
    quota_containers = models.PositiveIntegerField("containers", null=True, blank=True)
    quota_deployments = models.PositiveIntegerField("deployments", null=True, blank=True)
    quota_image_bytes = models.BigIntegerField(
        "images' disk (bytes)", null=True, blank=True, validators=[MinValueValidator(0)]
    )

    # Declared for the type checker: django-stubs cannot resolve this reverse manager of knox's token model.
    tokens: RelatedManager[ApiToken]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place in an organization: one role per organization."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    tenancy_path = "organization"

    class Meta:
        ordering = ["organization__name", "user__username"]
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class ApiToken(AbstractAuthToken):
    """A named API token (django-rest-knox stores only its SHA-512 digest and first characters).

    Bound to one organization and a role no higher than its owner's; the owner's current role
    caps it again at every request, so demoting or removing a member weakens their tokens too.
    Revoked tokens stay (revoked_at set) so the console and the event log can still name them.
    """

    # knox makes the digest the primary key; an ordinary id keeps digests out of URLs and forms.
    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=128, unique=True)
    name = models.CharField(max_length=100)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tokens")
    role = models.CharField(max_length=10, choices=Role.choices)
    # Only staff can make one: /metrics covers every organization.
    metrics = models.BooleanField("may read /metrics", default=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    tenancy_path = "organization"

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…)"


def default_organization() -> Organization:
    """The organization rows made before tenancy existed moved into; make run's admin is its admin."""
    organization, _ = Organization.objects.get_or_create(slug=DEFAULT_SLUG, defaults={"name": "Default"})
    return organization


def default_organization_id() -> int:
    return default_organization().pk


def parent_organization_id(row: models.Model, parent: str) -> int | None:
    """The organization of ``row``'s ``parent`` (a foreign key to a row with an ``organization``): read off the
    parent when it is loaded, else one query; None without a parent.

    For rows that keep their parent's organization on themselves so the scope reads it from their own index
    (a container its deployment's, a health row its container's, an event its deployment's).
    """
    descriptor = getattr(type(row), parent)
    if descriptor.is_cached(row):
        loaded = getattr(row, parent)
        return None if loaded is None else loaded.organization_id
    parent_id = getattr(row, descriptor.field.attname)
    if parent_id is None:
        return None
    rows = descriptor.field.related_model.objects.filter(pk=parent_id)
    return rows.values_list("organization_id", flat=True).first()


def keep_parent_organization(row: models.Model, parent: str) -> None:
    """Give ``row`` its ``parent``'s organization (see :func:`parent_organization_id`) when the parent is loaded
    (it may be another one now) or the row has none yet; a row without a parent keeps what it has."""
    if getattr(type(row), parent).is_cached(row) or getattr(row, "organization_id", None) is None:
        owner = parent_organization_id(row, parent)
        if owner is not None:
            row.organization_id = owner  # type: ignore[attr-defined]
