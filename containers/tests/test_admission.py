"""Admission control: a desired state that would reserve more than the host has is refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from containers import engine
from containers.deployments import create_deployment, reserved, scale
from containers.models import Deployment, Event
from containers.refusals import AdmissionRefused

MIB = 1024 * 1024


def values(demo_image: Any, name: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "image": demo_image,
        "replicas": 1,
        "cpu_limit": Decimal("0.1"),
        "memory_limit_bytes": 16 * MIB,
    }
    base.update(extra)
    return base


def test_it_refuses_more_memory_than_the_host_has_and_records_why(demo_image: Any) -> None:
    host = engine.host_info()
    too_much = host.memory_bytes // 2 + MIB

    with pytest.raises(AdmissionRefused, match="memory"):
        create_deployment(actor="alice", **values(demo_image, "adm-mem", replicas=2, memory_limit_bytes=too_much))

    assert not Deployment.objects.filter(name="adm-mem").exists()
    refused = Event.objects.get(kind="request.refused")
    assert refused.actor == "alice" and "memory" in refused.message


def test_it_refuses_more_cpu_than_the_host_has(demo_image: Any) -> None:
    cores = engine.host_info().cpus

    with pytest.raises(AdmissionRefused, match="CPU"):
        create_deployment(actor="alice", **values(demo_image, "adm-cpu", replicas=cores + 1, cpu_limit=Decimal("1")))


def test_it_counts_what_other_deployments_already_reserve(demo_image: Any) -> None:
    cores = engine.host_info().cpus
    create_deployment(actor="alice", **values(demo_image, "adm-first", replicas=cores, cpu_limit=Decimal("0.9")))
    assert reserved().cpu == Decimal("0.9") * cores

    with pytest.raises(AdmissionRefused):
        create_deployment(actor="alice", **values(demo_image, "adm-second", replicas=1, cpu_limit=Decimal("0.5")))


def test_scaling_up_past_the_host_is_refused_and_leaves_the_replicas_alone(demo_image: Any) -> None:
    deployment = create_deployment(actor="alice", **values(demo_image, "adm-scale", cpu_limit=Decimal("1")))
    cores = engine.host_info().cpus

    with pytest.raises(AdmissionRefused):
        scale(deployment, cores + 1, actor="alice")

    deployment.refresh_from_db()
    assert deployment.replicas == 1
