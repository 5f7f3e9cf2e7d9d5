"""Replica slots: every container holds a stable slot number, a replacement takes the slot of the
container that died, and each slot counts its restarts (shown in the console's containers table).

The engine is real: replicas are killed or removed with the docker CLI, from outside the orchestrator,
and converged in the test with ``reconcile.converge`` as the watcher's converge would.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from conftest import deploy, docker_cli, on_engine
from containers import reconcile
from containers.deployments import scale, update_deployment
from containers.models import Container, Deployment, Event, ReplicaSlot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_deployment_networks(settings: Any) -> None:
    """Slots do not depend on networks, and a shared engine may have run out of network address pools."""
    settings.DEPLOYMENT_NETWORKS = False


def slots_of(deployment: Any) -> dict[int, tuple[str, int]]:
    """slot -> (docker id, restart count) of the deployment's rows."""
    rows = Container.objects.filter(deployment=deployment)
    return {row.slot: (row.docker_id, row.restart_count) for row in rows if row.slot is not None}


def restarts_of(deployment: Any) -> dict[int, int]:
    return dict(ReplicaSlot.objects.filter(deployment=deployment).values_list("number", "restarts"))


def test_replicas_are_numbered_from_one(demo_image: Any) -> None:
    deployment = deploy(demo_image, "slots-numbered", 3)

    slots = slots_of(deployment)
    assert sorted(slots) == [1, 2, 3]
    assert {docker_id for docker_id, _ in slots.values()} == {c.id for c in on_engine(deployment)}
    assert restarts_of(deployment) == {1: 0, 2: 0, 3: 0}


def test_a_replica_killed_from_outside_is_replaced_in_its_own_slot_which_counts_one_restart(
    demo_image: Any, client: Client, user: Any
) -> None:
    deployment = deploy(demo_image, "slots-kill", 3)
    before = slots_of(deployment)
    victim, _ = before[2]

    docker_cli("kill", victim)
    reconcile.converge(deployment.pk, died=victim)

    after = slots_of(deployment)
    assert sorted(after) == [1, 2, 3]
    replacement, restarts = after[2]
    assert replacement != victim and replacement in {c.id for c in on_engine(deployment) if c.running}
    assert restarts == 1
    assert after[1] == before[1] and after[3] == before[3]  # the others untouched, still 0 restarts
    assert restarts_of(deployment) == {1: 0, 2: 1, 3: 0}
    died = Event.objects.get(kind="container.died", container_docker_id=victim)
    assert died.after["slot"] == 2 and died.after["exit_code"] == 137

    # The console's containers table: one row per slot, the restarts of slot 2 and the replaced mark.
    client.force_login(user)
    html = client.get(f"/deployments/{deployment.pk}/status/", HTTP_HX_REQUEST="true").content.decode()
    row = r"</a></th>\s*<td class=\"count\">(\d+)</td>.*?<td class=\"count\">(\d+)</td>\s*</tr>"  # slot, restarts
    cells = re.findall(row, html, re.S)
    assert sorted((int(slot), int(restarts)) for slot, restarts in cells) == [(1, 0), (2, 1), (3, 0)]
    assert re.search(r"exit 137</span> <small>\(slot 2\)</small>", html)

    # A second death in the same slot, soon after its start: a crash loop backs off and the slot stays
    # empty for a while, but its count goes on (2) and its next container carries it.
    docker_cli("kill", replacement)
    reconcile.converge(deployment.pk, died=replacement)
    assert restarts_of(deployment) == {1: 0, 2: 2, 3: 0}
    Deployment.objects.filter(pk=deployment.pk).update(backoff_until=None)  # the backoff is over
    reconcile.converge(deployment.pk)
    assert slots_of(deployment)[2][1] == 2 and sorted(slots_of(deployment)) == [1, 2, 3]


def test_a_replica_removed_from_outside_is_replaced_in_its_slot_too(demo_image: Any) -> None:
    deployment = deploy(demo_image, "slots-removed", 2)
    victim, _ = slots_of(deployment)[1]

    docker_cli("rm", "-f", victim)
    reconcile.converge(deployment.pk)

    replacement, restarts = slots_of(deployment)[1]
    assert replacement != victim and restarts == 1
    assert restarts_of(deployment) == {1: 1, 2: 0}


def test_scaling_fills_the_lowest_free_slots_and_a_scale_down_counts_no_restart(demo_image: Any) -> None:
    deployment = deploy(demo_image, "slots-scale", 1)
    scale(deployment, 3, actor="tests")
    reconcile.converge(deployment.pk)
    assert sorted(slots_of(deployment)) == [1, 2, 3]

    scale(deployment, 1, actor="tests")
    reconcile.converge(deployment.pk)
    assert sorted(slots_of(deployment)) == [1]  # the newest go, as before
    scale(deployment, 2, actor="tests")
    reconcile.converge(deployment.pk)
    assert sorted(slots_of(deployment)) == [1, 2]
    assert set(restarts_of(deployment).values()) == {0}


def test_a_rolling_update_keeps_the_slots_and_their_counts(demo_image: Any) -> None:
    deployment = deploy(demo_image, "slots-roll", 2)
    victim, _ = slots_of(deployment)[1]
    docker_cli("kill", victim)
    reconcile.converge(deployment.pk, died=victim)
    assert restarts_of(deployment) == {1: 1, 2: 0}

    update_deployment(deployment, actor="tests", env={"REVISION": "2"})
    reconcile.converge(deployment.pk)

    rows = list(Container.objects.filter(deployment=deployment))
    assert sorted((r.generation, r.slot, r.restart_count) for r in rows) == [(2, 1, 1), (2, 2, 0)]
    assert restarts_of(deployment) == {1: 1, 2: 0}


@pytest.mark.parametrize(("surge", "unavailable"), [(1, 0), (2, 1)])
def test_a_rolling_update_of_several_replicas_leaves_no_hole_in_the_slots(
    demo_image: Any, surge: int, unavailable: int
) -> None:
    """Surge containers share the slot of the old one they replace; whatever order the old ones go in,
    the rollout ends on slots 1..replicas (never e.g. {1, 2, 3, 4, 6})."""
    deployment = deploy(demo_image, f"slots-surge-{surge}", 5, max_surge=surge, max_unavailable=unavailable)

    update_deployment(deployment, actor="tests", env={"REVISION": "2"})
    reconcile.converge(deployment.pk)

    rows = list(Container.objects.filter(deployment=deployment))
    assert sorted((r.generation, r.slot) for r in rows) == [(2, n) for n in range(1, 6)]
    assert {c.generation for c in on_engine(deployment)} == {2}


def test_adopted_containers_and_rows_without_a_slot_get_one(demo_image: Any) -> None:
    deployment = deploy(demo_image, "slots-adopt", 2)
    Container.objects.filter(deployment=deployment, slot=1).delete()  # a fresh orchestrator: no row for it
    Container.objects.filter(deployment=deployment).update(slot=None)  # a row written without a slot

    reconcile.converge(deployment.pk)

    assert sorted(slots_of(deployment)) == [1, 2]
    assert {docker_id for docker_id, _ in slots_of(deployment).values()} == {c.id for c in on_engine(deployment)}


@pytest.mark.parametrize(
    ("count", "held", "vacated", "expected"),
    [
        (3, [], [], [1, 2, 3]),
        (1, [1, 3], [2], [2]),
        (1, [2], [3], [3]),  # the dead one's slot, not the lowest free
        (2, [2], [4], [4, 1]),
        (1, [1, 2], [2], [3]),  # a vacated slot someone holds again is not handed out twice
        (0, [], [5], []),
    ],
)
def test_assign_slots(count: int, held: list[int], vacated: list[int], expected: list[int]) -> None:
    assert reconcile.assign_slots(count, held, vacated) == expected
