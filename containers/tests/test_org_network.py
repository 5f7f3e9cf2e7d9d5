"""Each organization's containers join its own bridge network, never Docker's default bridge;
the network is made on demand, labelled, and removed with the organization. Checked from the
engine's inspect data (no traffic is sent between containers)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import deploy, make_member
from containers import engine, networks
from tenancy.access import resolve
from tenancy.models import Organization
from tenancy.organizations import delete_organization

pytestmark = pytest.mark.django_db


def test_two_organizations_containers_share_no_network(demo_image: Any, remove_test_containers: None) -> None:
    alpha = Organization.objects.create(name="Alpha", slug="alpha")
    beta = Organization.objects.create(name="Beta", slug="beta")

    a = deploy(demo_image, "web", organization=alpha, container_port=8080).containers.get()
    b = deploy(demo_image, "web", organization=beta, container_port=8080).containers.get()
    a_detail, b_detail = engine.inspect_container(a.docker_id), engine.inspect_container(b.docker_id)

    assert a_detail.networks == (networks.network_name(alpha.pk),)
    assert b_detail.networks == (networks.network_name(beta.pk),)
    assert "bridge" not in a_detail.networks + b_detail.networks
    network = engine.inspect_network(networks.network_name(alpha.pk))
    assert network is not None and network.driver == "bridge"
    assert network.labels[engine.LABEL_ORGANIZATION] == str(alpha.pk)
    assert network.containers == (a.docker_id,)
    assert a_detail.info.host_port and b_detail.info.host_port  # still published on 127.0.0.1


def test_deleting_an_organization_removes_its_containers_and_network(
    demo_image: Any, remove_test_containers: None
) -> None:
    from django.contrib.auth import get_user_model

    alpha = Organization.objects.create(name="Alpha", slug="alpha")
    make_member("alice", alpha, "admin")
    container = deploy(demo_image, "web", organization=alpha).containers.get()
    root = get_user_model().objects.create_superuser("root", "", "x")

    delete_organization(alpha, access=resolve(root, None, None))

    assert engine.inspect_network(networks.network_name(alpha.pk)) is None
    with pytest.raises(engine.ContainerNotFound):
        engine.inspect_container(container.docker_id)
    assert not Organization.objects.filter(pk=alpha.pk).exists()
