"""A DELETE while a converge holds the deployment's lock through a rollout: the converge sees the
deletion coming and lets go at its next step, so the DELETE answers in moments, not ROLLOUT_HOLD_S
(against the real engine; the converge runs in its own thread with its own database connection)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from conftest import deploy, on_engine, wait_for
from containers import reconcile
from containers.deployments import update_deployment
from containers.models import Deployment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("remove_test_containers")]


def test_a_delete_during_a_rollout_does_not_wait_for_the_converge_holding_the_lock(
    demo_image: Any, api_client: APIClient, settings: Any
) -> None:
    settings.ROLLOUT_HOLD_S = 30.0
    # A port nothing listens on after the change: the new revision never gets ready, the rollout holds.
    deployment = deploy(demo_image, "del-rolling", 1, container_port=8080, progress_deadline_s=120)
    update_deployment(deployment, actor="tests", command=["sleep", "600"])
    held: list[float] = []

    def converge() -> None:
        began = time.monotonic()
        try:
            reconcile.converge(deployment.pk)
        finally:
            held.append(time.monotonic() - began)
            connection.close()

    holder = threading.Thread(target=converge)
    holder.start()
    # The surge container is up and the converge keeps stepping, holding the lock.
    wait_for(lambda: len(on_engine(deployment)) == 2, timeout=30, what="the rollout's new container")
    time.sleep(1.0)
    assert not held, "the converge should still hold the lock through the rollout"

    started = time.monotonic()
    response = api_client.delete(f"/api/deployments/{deployment.pk}/")
    took = time.monotonic() - started
    holder.join(timeout=60)

    assert response.status_code == 204, response.content
    assert took < 10, f"the DELETE waited {took:.1f} s for the converge"
    assert held and held[0] < 20, f"the converge held the lock {held[0]:.1f} s"
    assert not Deployment.objects.filter(pk=deployment.pk).exists()
    assert on_engine(deployment) == []
