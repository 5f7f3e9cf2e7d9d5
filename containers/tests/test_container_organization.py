"""A container carries its deployment's organization on its own row (what the scope and the console's counts
read): set on save, required by the database."""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from containers.models import Container, Deployment, Image
from tenancy.models import Organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_web() -> Deployment:
    acme = Organization.objects.create(name="Acme", slug="acme")
    image = Image.objects.create(reference="orchestrator-test/org:1", organization=acme)
    return Deployment.objects.create(name="web", image=image, organization=acme, memory_limit_bytes=64 * 1024**2)


def make(**fields: object) -> Container:
    return Container(docker_id=uuid.uuid4().hex * 2, name=f"c-{uuid.uuid4().hex[:6]}", **fields)


def test_a_new_container_takes_its_deployments_organization(acme_web: Deployment) -> None:
    container = make(deployment=acme_web)
    container.save()

    assert container.organization_id == acme_web.organization_id
    assert Container.objects.get(pk=container.pk).organization_id == acme_web.organization_id


def test_a_container_saved_by_deployment_id_alone_is_still_its_organizations(acme_web: Deployment) -> None:
    container = make(deployment_id=acme_web.pk)
    container.save()

    assert container.organization_id == acme_web.organization_id


def test_the_deployment_wins_over_a_wrong_organization(acme_web: Deployment) -> None:
    other = Organization.objects.create(name="Other", slug="other")
    container = make(deployment=acme_web, organization=other)
    container.save()

    assert container.organization_id == acme_web.organization_id


def test_a_bulk_create_without_the_organization_is_refused(acme_web: Deployment) -> None:
    # bulk_create skips save(): the NOT NULL column refuses the row rather than hide it from every member.
    with pytest.raises(IntegrityError), transaction.atomic():
        Container.objects.bulk_create([make(deployment=acme_web)])

    assert not Container.objects.filter(deployment=acme_web).exists()


def test_a_container_added_in_the_admin_is_its_deployments_organizations(
    admin_client: Client, acme_web: Deployment
) -> None:
    form = {"deployment": acme_web.pk, "docker_id": "f" * 64, "name": "by-hand", "generation": 1, "status": "created"}
    form |= {"restart_count": 0}

    response = admin_client.post("/admin/containers/container/add/", form)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Container.objects.get(name="by-hand").organization_id == acme_web.organization_id
