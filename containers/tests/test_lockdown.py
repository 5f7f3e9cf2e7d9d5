"""Containers are locked down by default, checked on what the engine reports (``docker inspect``):
every capability dropped (given back only when asked for and approved by an administrator), an optional
read-only root filesystem, anonymous volumes removed with the container, bounded logs, each
deployment on its own labelled network that goes away with it. The demo image still serves."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from conftest import deploy, docker_cli, on_engine, wait_for
from containers import engine, reconcile
from containers.models import Deployment, Event, Image
from containers.tests.image_tags import unique_reference, untag

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("remove_test_containers")]


def inspect(container_id: str) -> dict[str, Any]:
    return json.loads(docker_cli("inspect", container_id))[0]


def only_container(deployment: Deployment) -> dict[str, Any]:
    (info,) = on_engine(deployment)
    return inspect(info.id)


def test_a_container_drops_every_capability_and_the_demo_image_still_serves(demo_image: Image) -> None:
    deployment = deploy(demo_image, "lock-caps", container_port=8080)
    attrs = only_container(deployment)
    host = attrs["HostConfig"]

    assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
    assert "no-new-privileges:true" in host["SecurityOpt"] and host["Privileged"] is False
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"}}
    assert host["ReadonlyRootfs"] is False
    port = deployment.containers.get().host_port

    def page() -> str:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:  # noqa: S310
                return response.read().decode()
        except OSError:
            return ""

    assert "Hello from" in wait_for(page, timeout=15, what="the demo page")


@pytest.fixture
def admin(db: None) -> Any:
    return get_user_model().objects.create_superuser("root", "root@example.com", "correct-horse-battery")


def test_capabilities_apply_only_once_an_administrator_approves(
    api_client: APIClient, admin: Any, demo_image: Image
) -> None:
    created = api_client.post(
        "/api/deployments/?wait=true",
        {
            "name": "lock-netbind",
            "image": demo_image.reference,
            "cpu_limit": "0.05",
            "memory_limit": "16m",
            "capabilities": ["NET_BIND_SERVICE"],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    deployment = Deployment.objects.get(name="lock-netbind")
    assert not only_container(deployment)["HostConfig"]["CapAdd"]

    refused = api_client.post(f"/api/deployments/{deployment.pk}/approve-capabilities/")
    assert refused.status_code == 403 and "administrator" in refused.json()["error"]

    staff = APIClient()
    staff.force_authenticate(admin)
    approved = staff.post(f"/api/deployments/{deployment.pk}/approve-capabilities/?wait=true")

    assert approved.status_code == 200, approved.json()
    assert approved.json()["capabilities_approved"] == ["NET_BIND_SERVICE"]
    assert only_container(deployment)["HostConfig"]["CapAdd"] == ["NET_BIND_SERVICE"]
    assert Event.objects.filter(kind="deployment.capabilities_approved", actor="root").exists()


@pytest.mark.parametrize("capability", ["SYS_ADMIN", "NET_ADMIN", "ALL"])
def test_only_a_few_capabilities_may_be_asked_for(api_client: APIClient, demo_image: Image, capability: str) -> None:
    response = api_client.post(
        "/api/deployments/",
        {"name": "lock-bad", "image": demo_image.reference, "capabilities": [capability]},
        format="json",
    )

    assert response.status_code == 400 and "capabilities" in response.json()["fields"]


def test_a_read_only_root_filesystem_keeps_a_writable_tmp(demo_image: Image) -> None:
    command = ["sh", "-c", "touch /rootfile || echo root-refused; touch /tmp/ok && echo tmp-ok; exec sleep 3600"]
    deployment = deploy(demo_image, "lock-ro", read_only_root=True, command=command)
    (info,) = on_engine(deployment)
    host = inspect(info.id)["HostConfig"]

    assert host["ReadonlyRootfs"] is True and set(host["Tmpfs"]) == {"/tmp", "/run"}
    logs = wait_for(lambda: "tmp-ok" in engine.container_logs(info.id) and engine.container_logs(info.id))
    assert "root-refused" in logs and "Read-only file system" in logs


@pytest.fixture
def volume_image(demo_image: Image, tmp_path: Path) -> Any:
    """The demo image plus a VOLUME: every container gets an anonymous volume."""
    reference = unique_reference("volume")
    (tmp_path / "Dockerfile").write_text(f"FROM {demo_image.reference}\nVOLUME /data\n")
    docker_cli("build", "-q", "-t", reference, str(tmp_path))
    image = Image.objects.create(reference=reference, source=Image.Source.BUILD)
    yield image
    untag(reference)


def test_anonymous_volumes_are_removed_with_their_container(volume_image: Image) -> None:
    deployment = deploy(volume_image, "lock-volume")
    (mount,) = [m for m in only_container(deployment)["Mounts"] if m["Destination"] == "/data"]
    docker_cli("volume", "inspect", mount["Name"])

    deployment.replicas = 0
    deployment.save()
    reconcile.converge(deployment.pk)

    assert on_engine(deployment) == []
    gone = subprocess.run(["docker", "volume", "inspect", mount["Name"]], capture_output=True, timeout=30)
    assert gone.returncode != 0


def test_each_deployment_runs_on_its_own_labelled_network_removed_with_it(
    api_client: APIClient, demo_image: Image
) -> None:
    first = deploy(demo_image, "lock-net-a", 2)
    second = deploy(demo_image, "lock-net-b")
    first.refresh_from_db()
    assert first.last_error == ""

    networks = {
        deployment.name: [set(inspect(c.id)["NetworkSettings"]["Networks"]) for c in on_engine(deployment)]
        for deployment in (first, second)
    }
    assert networks["lock-net-a"] == [{first.network_name()}, {first.network_name()}]
    assert networks["lock-net-b"] == [{second.network_name()}]
    attrs = json.loads(docker_cli("network", "inspect", first.network_name()))[0]
    assert attrs["Driver"] == "bridge"
    assert attrs["Labels"][engine.LABEL_DEPLOYMENT] == str(first.pk)
    assert attrs["Labels"][engine.LABEL_INSTANCE] == engine.instance_labels()[engine.LABEL_INSTANCE]
    # Only this deployment's containers are attached to it.
    attached = {c["Name"] for c in attrs["Containers"].values()}
    assert attached == {c.name for c in on_engine(first)}

    assert api_client.delete(f"/api/deployments/{first.pk}/").status_code == 204
    assert subprocess.run(["docker", "network", "inspect", first.network_name()], capture_output=True).returncode != 0
    assert docker_cli("network", "inspect", "-f", "{{.Name}}", second.network_name()) == second.network_name()


def test_an_orphaned_network_is_swept(demo_image: Image) -> None:
    deployment = deploy(demo_image, "lock-orphan")
    name = deployment.network_name()
    for info in on_engine(deployment):
        engine.remove_container(info.id)
    Deployment.objects.filter(pk=deployment.pk).delete()

    assert name in reconcile.remove_orphan_networks()
    assert subprocess.run(["docker", "network", "inspect", name], capture_output=True).returncode != 0


def test_a_disk_limit_is_applied_where_the_storage_driver_enforces_one(settings: Any, demo_image: Image) -> None:
    settings.CONTAINER_DISK_LIMIT_BYTES = 512 * 1024**2
    info = json.loads(docker_cli("info", "--format", "{{json .}}"))
    backing = dict(info.get("DriverStatus") or []).get("Backing Filesystem")
    enforceable = info["Driver"] in ("btrfs", "zfs", "devicemapper") or (info["Driver"], backing) == ("overlay2", "xfs")

    deployment = deploy(demo_image, "lock-disk")
    storage = only_container(deployment)["HostConfig"].get("StorageOpt") or {}

    assert engine.disk_limit_supported() is enforceable
    # Where the driver can't (overlay2 on ext4 here), the container still starts, without the option.
    assert storage == ({"size": str(512 * 1024**2)} if enforceable else {})
    assert deployment.containers.get().status == "running"
