"""No organization's containers share a network with another's: each deployment runs on its own
bridge network (harden's per-deployment networks), labelled with its organization, made on demand
and removed with the deployment, so with the organization. Never Docker's default bridge. Checked
from the engine's inspect data (no traffic is sent between containers)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from conftest import deploy, docker_cli, make_member
from containers import engine
from tenancy.access import resolve
from tenancy.models import Organization
from tenancy.organizations import delete_organization

pytestmark = pytest.mark.django_db


def _network(name: str) -> dict[str, Any] | None:
    done = subprocess.run(["docker", "network", "inspect", name], capture_output=True, text=True, timeout=30)
    return json.loads(done.stdout)[0] if done.returncode == 0 else None


def test_two_organizations_containers_share_no_network(demo_image: Any, remove_test_containers: None) -> None:
    alpha = Organization.objects.create(name="Alpha", slug="alpha")
    beta = Organization.objects.create(name="Beta", slug="beta")

    a_deployment = deploy(demo_image, "web", organization=alpha, container_port=8080)
    b_deployment = deploy(demo_image, "web", organization=beta, container_port=8080)
    a, b = a_deployment.containers.get(), b_deployment.containers.get()
    a_detail, b_detail = engine.inspect_container(a.docker_id), engine.inspect_container(b.docker_id)

    assert a_detail.networks == (a_deployment.network_name(),)
    assert b_detail.networks == (b_deployment.network_name(),)
    assert not set(a_detail.networks) & set(b_detail.networks)
    assert "bridge" not in a_detail.networks + b_detail.networks
    for deployment, organization, container in ((a_deployment, alpha, a), (b_deployment, beta, b)):
        network = _network(deployment.network_name())
        assert network is not None and network["Driver"] == "bridge"
        assert network["Labels"][engine.LABEL_ORGANIZATION] == str(organization.pk)
        assert set(network["Containers"]) == {container.docker_id}
    assert a_detail.info.host_port and b_detail.info.host_port  # still published on 127.0.0.1
    published = docker_cli("port", a.docker_id)
    assert "127.0.0.1:" in published and "0.0.0.0" not in published


def test_deleting_an_organization_removes_its_containers_and_networks(
    demo_image: Any, remove_test_containers: None
) -> None:
    from django.contrib.auth import get_user_model

    alpha = Organization.objects.create(name="Alpha", slug="alpha")
    make_member("alice", alpha, "admin")
    deployment = deploy(demo_image, "web", organization=alpha)
    container = deployment.containers.get()
    name = deployment.network_name()
    assert _network(name) is not None
    root = get_user_model().objects.create_superuser("root", "", "x")

    delete_organization(alpha, access=resolve(root, None, None))

    assert _network(name) is None
    assert engine.list_networks({engine.LABEL_ORGANIZATION: str(alpha.pk)}) == []
    with pytest.raises(engine.ContainerNotFound):
        engine.inspect_container(container.docker_id)
    assert not Organization.objects.filter(pk=alpha.pk).exists()


def test_a_network_removed_behind_the_processs_back_is_made_again_for_the_next_container(
    demo_image: Any, remove_test_containers: None
) -> None:
    from containers import reconcile

    deployment = deploy(demo_image, "net-again")
    first = deployment.containers.get()
    name = deployment.network_name()
    # This process knows the network; another process's clean-up removes it (and the container on it).
    docker_cli("rm", "-f", first.docker_id)
    docker_cli("network", "rm", name)

    reconcile.converge(deployment.pk)

    replacement = deployment.containers.get()
    assert replacement.docker_id != first.docker_id
    assert engine.inspect_container(replacement.docker_id).networks == (name,)
    network = _network(name)
    assert network is not None and set(network["Containers"]) == {replacement.docker_id}
    assert len(engine.list_containers(engine.deployment_labels(deployment.pk))) == 1
