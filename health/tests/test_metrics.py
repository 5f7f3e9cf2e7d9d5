"""GET /metrics: Prometheus' text format from the database, behind authentication like every path but /health."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from containers import reconcile
from containers.models import Container, Deployment, Image
from health.models import ContainerHealth
from orchestrator_site.processes import durations
from orchestrator_site.processes.models import Heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(organization: Any) -> Any:
    """alice as staff: /metrics covers every organization, so only staff (or a metrics token) read it."""
    from conftest import make_member

    return make_member("alice", organization, "admin", is_superuser=True, is_staff=True)


def samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as {(name, sorted labels): value}, parsed by prometheus-client's own parser."""
    result = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            result[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return result


def add_containers(count: int) -> list[Container]:
    image = Image.objects.get_or_create(reference="orchestrator-test/metrics:1")[0]
    deployment = Deployment.objects.get_or_create(
        name="metrics-web", defaults={"image": image, "memory_limit_bytes": 16 << 20}
    )[0]
    now = timezone.now()
    containers = []
    for _ in range(count):
        container = Container.objects.create(
            deployment=deployment, docker_id=uuid.uuid4().hex * 2, name=f"metrics-web-{uuid.uuid4().hex[:6]}"
        )
        ContainerHealth.objects.create(
            container=container,
            health_class="warning",
            class_since=now,
            sampled_at=now,
            source="cgroup",
            cpu_pct=80.5,
            memory_bytes=4 << 20,
            memory_pct=25.0,
            memory_limit_bytes=16 << 20,
            pids=2,
            cpu_usage_ns=3_500_000_000,
            net_rx_bytes=1234,
            net_tx_bytes=567,
            blk_read_bytes=0,
            blk_write_bytes=8192,
        )
        containers.append(container)
    return containers


def labels(container: Container, **extra: str) -> tuple[tuple[str, str], ...]:
    base = {"container": container.name, "id": container.short_id, "deployment": "metrics-web", **extra}
    return tuple(sorted(base.items()))


def test_it_refuses_anonymous_users(anon_client: APIClient) -> None:
    response = anon_client.get("/metrics")

    assert response.status_code in (401, 403)
    assert "error" in response.json()


def test_it_refuses_post(api_client: APIClient) -> None:
    assert api_client.post("/metrics").status_code == 405


def test_it_gives_each_containers_latest_figures_and_class(api_client: APIClient) -> None:
    (container,) = add_containers(1)

    response = api_client.get("/metrics", HTTP_ACCEPT="text/plain")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    values = samples(response.content)
    assert values[("orchestrator_container_cpu_percent", labels(container))] == 80.5
    assert values[("orchestrator_container_memory_bytes", labels(container))] == 4 << 20
    assert values[("orchestrator_container_memory_percent", labels(container))] == 25.0
    assert values[("orchestrator_container_network_receive_bytes_total", labels(container))] == 1234
    assert values[("orchestrator_container_network_transmit_bytes_total", labels(container))] == 567
    assert values[("orchestrator_container_cpu_usage_seconds_total", labels(container))] == 3.5
    assert values[("orchestrator_container_health", labels(container, **{"class": "warning"}))] == 1
    assert values[("orchestrator_container_health", labels(container, **{"class": "healthy"}))] == 0


def test_a_prometheus_style_request_with_a_token_is_answered(user: Any) -> None:
    from rest_framework.authtoken.models import Token

    token = Token.objects.get_or_create(user=user)[0]
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

    response = Client().get("/metrics/", HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_ACCEPT=accept)

    assert response.status_code == 200


def test_a_console_session_may_read_it_too(user: Any) -> None:
    client = Client()
    client.force_login(user)

    assert client.get("/metrics").status_code == 200


def test_it_reads_the_database_in_the_same_queries_for_2_or_20_containers(
    api_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    add_containers(2)
    with django_assert_max_num_queries(20) as two:
        api_client.get("/metrics")

    add_containers(18)
    with django_assert_max_num_queries(len(two.captured_queries)):
        body = api_client.get("/metrics").content

    assert body.count(b"orchestrator_container_cpu_percent{") == 20


def test_it_gives_the_samplers_lag_and_duration(api_client: APIClient, settings: Any) -> None:
    started = timezone.now() - timedelta(seconds=settings.SAMPLE_INTERVAL_S + 12)
    Heartbeat.objects.create(
        component="sampler", seen_at=started, detail={"duration_ms": 8.0, "containers": 3, "interval_s": 5}
    )
    durations.observe("sampler", 0.008)
    durations.observe("sampler", 0.3)

    values = samples(api_client.get("/metrics").content)

    assert values[("orchestrator_sampler_lag_seconds", ())] == pytest.approx(12, abs=2)
    assert values[("orchestrator_sampler_last_duration_seconds", ())] == 0.008
    assert values[("orchestrator_sampler_last_round_timestamp_seconds", ())] == pytest.approx(started.timestamp())
    assert values[("orchestrator_sampler_duration_seconds_bucket", (("le", "0.01"),))] == 1
    assert values[("orchestrator_sampler_duration_seconds_bucket", (("le", "0.5"),))] == 2
    assert values[("orchestrator_sampler_duration_seconds_bucket", (("le", "+Inf"),))] == 2
    assert values[("orchestrator_sampler_duration_seconds_count", ())] == 2
    assert values[("orchestrator_sampler_duration_seconds_sum", ())] == pytest.approx(0.308)


@pytest.mark.django_db(transaction=True)
def test_each_converge_is_timed_for_the_reconcile_histogram(api_client: APIClient, engine_ready: None) -> None:
    image = Image.objects.create(reference="orchestrator-test/metrics:1")
    deployment = Deployment.objects.create(name="metrics-idle", image=image, replicas=0, memory_limit_bytes=16 << 20)

    reconcile.converge(deployment.pk)
    reconcile.converge(deployment.pk)

    values = samples(api_client.get("/metrics").content)
    assert values[("orchestrator_reconcile_duration_seconds_count", ())] == 2
    assert values[("orchestrator_reconcile_duration_seconds_sum", ())] > 0


def test_a_member_who_is_not_staff_is_refused(organization: Any) -> None:
    from conftest import make_member

    client = Client()
    client.force_login(make_member("vic", organization, "admin"))

    assert client.get("/metrics").status_code == 403


def test_a_token_with_the_metrics_scope_reads_it_and_a_plain_one_does_not(user: Any, organization: Any) -> None:
    from tenancy.models import ApiToken

    _, scoped = ApiToken.objects.create(
        user, expiry=None, name="prom", organization=organization, role="viewer", metrics=True
    )
    _, plain = ApiToken.objects.create(user, expiry=None, name="lb", organization=organization, role="viewer")

    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Token {scoped}").status_code == 200
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Token {plain}").status_code == 403
