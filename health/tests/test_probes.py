"""Probes against the real engine: the demo image's httpd on its port published on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import TEST_IMAGE_PREFIX, deploy, docker_cli, wait_for
from containers import engine, reconcile
from containers.deployments import delete_deployment
from containers.models import Container, Deployment, Event, Image
from health import probes
from health.models import Probe, ProbeResult
from registry.models import ServiceEndpoint

pytestmark = pytest.mark.django_db(transaction=True)


def web(image: Image, name: str) -> tuple[Deployment, Container]:
    deployment = deploy(image, name, container_port=8080, cpu_limit=Decimal("0.1"))
    container = Container.objects.get(deployment=deployment)
    assert container.host_port
    # docker-proxy accepts connections before httpd listens: wait for an HTTP answer.
    wait_for(lambda: probes.check_http(container.host_port, "/", 200, 0.5).ok, timeout=10, what="httpd to answer")
    return deployment, container


def probe_round(ticks: int = 1) -> None:
    """Run ``ticks`` rounds, each as if a probe period had passed since the last."""
    for tick in range(ticks):
        probes.run_round(timezone.now() + timedelta(seconds=3600 * (tick + 1)))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_tcp_check_of_a_closed_port_fails() -> None:
    outcome = probes.check_tcp(closed_port(), 0.5)
    assert not outcome.ok
    assert "Refused" in outcome.detail or "refused" in outcome.detail


def test_a_failing_liveness_probe_restarts_the_container_and_counts_a_crash(demo_image: Image) -> None:
    deployment, container = web(demo_image, "probe-live")
    Probe.objects.create(deployment=deployment, kind="liveness", path="/nope", failure_threshold=2, period_s=1)

    probe_round(1)
    result = ProbeResult.objects.get(container=container)
    assert (result.ok, result.status_code, result.consecutive_failures) == (False, 404, 1), result.detail
    assert not Event.objects.filter(kind="probe.restart").exists()

    probe_round(1)

    restart = Event.objects.get(kind="probe.restart", container_docker_id=container.docker_id)
    assert restart.deployment_id == deployment.pk
    assert Event.objects.filter(kind="probe.failed", container_docker_id=container.docker_id).count() == 1
    assert engine.inspect_container(container.docker_id).restart_count >= 0
    deployment.refresh_from_db()
    assert deployment.crash_count == 1
    assert ProbeResult.objects.get(container=container).consecutive_failures == 0


def test_a_passing_liveness_probe_keeps_the_container(demo_image: Image) -> None:
    deployment, container = web(demo_image, "probe-ok")
    Probe.objects.create(deployment=deployment, kind="liveness", type="tcp", failure_threshold=1)

    probe_round(2)

    result = ProbeResult.objects.get(container=container)
    assert result.ok and result.detail == "connected"
    assert not Event.objects.filter(kind="probe.restart").exists()


def test_readiness_sets_the_endpoint_status_both_ways(demo_image: Image) -> None:
    deployment, container = web(demo_image, "probe-ready")
    probe = Probe.objects.create(deployment=deployment, kind="readiness", path="/nope", failure_threshold=1)
    endpoint = ServiceEndpoint.objects.get(container=container)

    probe_round(1)
    endpoint.refresh_from_db()
    assert endpoint.status == "unhealthy"

    probe.path = "/"
    probe.save()
    probe_round(1)
    endpoint.refresh_from_db()
    assert endpoint.status == "healthy"
    assert ProbeResult.objects.get(container=container).status_code == 200


def test_the_container_health_answer_lists_probe_results(demo_image: Image, api_client: APIClient) -> None:
    deployment, container = web(demo_image, "probe-report")
    Probe.objects.create(deployment=deployment, kind="readiness", path="/nope", failure_threshold=1)
    probe_round(1)

    body = api_client.get(f"/containers/instances/{container.docker_id}/health").json()

    assert body["probes"][0]["kind"] == "readiness"
    assert body["probes"][0]["ok"] is False
    assert {"class": "critical", "basis": "probe:readiness"} in body["verdicts"]
    assert body["status"] == "critical"


def test_probes_not_due_are_not_run(demo_image: Image) -> None:
    deployment, container = web(demo_image, "probe-due")
    Probe.objects.create(deployment=deployment, kind="liveness", type="tcp", period_s=600)

    assert probes.run_round() == 1
    assert probes.run_round() == 0


@pytest.fixture
def failing_healthcheck_image(demo_image: Image, tmp_path: Path) -> Iterator[Image]:
    reference = f"{TEST_IMAGE_PREFIX}probe-healthcheck:1"
    (tmp_path / "Dockerfile").write_text(
        f'FROM {demo_image.reference}\nHEALTHCHECK --interval=1s --timeout=1s --retries=1 CMD ["/bin/false"]\n'
    )
    docker_cli("build", "-q", "-t", reference, str(tmp_path))
    image = Image.objects.create(reference=reference)
    yield image
    for deployment in Deployment.objects.filter(image=image):
        delete_deployment(deployment, actor="tests")
    docker_cli("rmi", "-f", reference)


def test_a_docker_healthcheck_saying_unhealthy_fails_readiness(failing_healthcheck_image: Image) -> None:
    deployment, container = web(failing_healthcheck_image, "probe-docker-hc")
    Probe.objects.create(deployment=deployment, kind="readiness", failure_threshold=1)
    wait_for(
        lambda: engine.inspect_container(container.docker_id).health_status == "unhealthy",
        timeout=15,
        what="Docker to call the container unhealthy",
    )

    probe_round(1)

    result = ProbeResult.objects.get(container=container)
    assert not result.ok and "HEALTHCHECK" in result.detail
    assert result.status_code == 200  # our own HTTP check passed; Docker's verdict decided
    assert ServiceEndpoint.objects.get(container=container).status == "unhealthy"


# --- API --------------------------------------------------------------------------------------


def test_probes_are_created_listed_and_filtered_by_deployment(demo_image: Image, api_client: APIClient) -> None:
    deploy(demo_image, "api-one", converge=False)
    deploy(demo_image, "api-two", converge=False)
    created = api_client.post(
        "/api/probes/", {"deployment": "api-one", "kind": "liveness", "path": "/healthz"}, format="json"
    )
    assert created.status_code == 201, created.json()
    api_client.post("/api/probes/", {"deployment": "api-two", "kind": "readiness", "type": "tcp"}, format="json")

    listed = api_client.get("/api/probes/?deployment=api-one").json()

    assert [p["deployment"] for p in listed["results"]] == ["api-one"]
    assert listed["results"][0]["failure_threshold"] == 3


def test_a_probe_with_a_bad_path_is_refused_naming_the_field(demo_image: Image, api_client: APIClient) -> None:
    deploy(demo_image, "api-bad", converge=False)
    response = api_client.post(
        "/api/probes/", {"deployment": "api-bad", "kind": "liveness", "path": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "path" in response.json()["fields"]


def test_a_probe_for_an_unknown_deployment_is_refused(api_client: APIClient) -> None:
    response = api_client.post("/api/probes/", {"deployment": "nope", "kind": "liveness"}, format="json")
    assert response.status_code == 400
    assert "deployment" in response.json()["fields"]


def test_probes_need_authentication(anon_client: APIClient) -> None:
    assert anon_client.get("/api/probes/").status_code in (401, 403)


def test_reconcile_counts_a_crash_and_backs_off_from_the_second(demo_image: Image) -> None:
    deployment = deploy(demo_image, "crash-count", converge=False)
    assert reconcile.count_crash(deployment, actor="tests", reason="test") == 0
    assert reconcile.count_crash(deployment, actor="tests", reason="test") > 0
    deployment.refresh_from_db()
    assert deployment.crash_count == 2 and deployment.in_backoff()
