"""What an organization runs goes with it: receivers of ``tenancy.hooks.before_organization_delete``."""

from __future__ import annotations

from containers import deployments
from containers.models import Deployment, Image


def remove_everything_of(organization_id: int) -> None:
    """Remove the organization's deployments (their containers and networks on the engine) and its images.

    Runs before the organization's row is deleted; if the engine is down it raises and nothing is deleted.
    """
    for deployment in Deployment.objects.filter(organization_id=organization_id).select_related("image"):
        deployments.delete_deployment(deployment, actor="organization-deletion")
    from containers import images

    for image in Image.objects.filter(organization_id=organization_id):
        images.delete_image(image, actor="organization-deletion")
