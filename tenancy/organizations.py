"""Creating and deleting organizations (staff only), audited."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from tenancy import hooks
from tenancy.access import Access
from tenancy.audit import audit
from tenancy.errors import Conflict, Forbidden, Invalid
from tenancy.models import DEFAULT_SLUG, Membership, Organization
from tenancy.roles import Role


def create_organization(name: str, *, access: Access, admin_username: str = "") -> Organization:
    """A new organization; ``admin_username`` (an existing user) becomes its first admin."""
    if not access.staff:
        raise Forbidden("only staff may create organizations")
    name = name.strip()
    slug = slugify(name)[:50]
    if not name or not slug:
        raise Invalid("an organization needs a name with letters or digits", field="name")
    if Organization.objects.filter(slug=slug).exists() or Organization.objects.filter(name=name).exists():
        raise Conflict(f"an organization named {name!r} exists already", field="name")
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.filter(username=admin_username).first() if admin_username else None
    if admin_username and admin is None:
        raise Invalid(f"no user {admin_username!r}", field="admin")
    with transaction.atomic():
        organization = Organization.objects.create(name=name, slug=slug)
        if admin is not None:
            Membership.objects.create(user=admin, organization=organization, role=Role.ADMIN)
        audit(
            "organization.created",
            actor=access.username,
            organization_id=organization.pk,
            message=f"organization {name} created" + (f" with {admin_username} as admin" if admin else ""),
            after={"name": name, "admin": admin_username or None},
        )
    return organization


def delete_organization(organization: Organization, *, access: Access | None = None, actor: str = "") -> None:
    """Remove an organization: the floors above remove what it runs (containers, its network) first."""
    if access is not None and not access.staff:
        raise Forbidden("only staff may delete organizations")
    if organization.slug == DEFAULT_SLUG:
        raise Conflict("the default organization can't be deleted", field="organization")
    for receiver in hooks.before_organization_delete:
        receiver(organization.pk)
    with transaction.atomic():
        audit(
            "organization.deleted",
            actor=access.username if access else actor,
            organization_id=None,
            message=f"organization {organization} deleted",
            before={"name": organization.name, "slug": organization.slug},
        )
        organization.delete()
