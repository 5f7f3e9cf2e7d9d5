"""The rolling planner: surge and unavailability bounds, readiness, pause. Pure: no Docker, no database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from containers.reconcile import Desired, Observed, Plan, plan


def step(result: Plan, observed: list[Observed], generation: int, *, new_ready: bool) -> list[Observed]:
    """The engine after a plan is carried out; new containers are ready at once or not at all."""
    removed = {r.container_id for r in result.remove}
    kept = [c for c in observed if c.id not in removed]
    start = len(observed) + 1000
    return kept + [Observed(f"new-{start + i}", generation, True, new_ready) for i in range(result.create)]


def old(count: int, generation: int = 1) -> list[Observed]:
    return [Observed(f"old-{i}", generation, True, True) for i in range(count)]


def test_surge_one_unavailable_zero_creates_one_and_removes_nothing_until_it_is_ready() -> None:
    desired = Desired(5, 2, max_surge=1, max_unavailable=0)
    first = plan(desired, old(5))
    assert (first.create, first.remove) == (1, ())

    waiting = plan(desired, [*old(5), Observed("n1", 2, True, False)])
    assert (waiting.create, waiting.remove) == (0, ())

    ready = plan(desired, [*old(5), Observed("n1", 2, True, True)])
    assert ready.create == 0
    assert [(r.container_id, r.reason) for r in ready.remove] == [("old-0", "outdated")]


@given(
    replicas=st.integers(1, 12),
    surge=st.integers(0, 4),
    unavailable=st.integers(0, 4),
)
def test_a_rollout_keeps_its_bounds_at_every_step_and_finishes(replicas: int, surge: int, unavailable: int) -> None:
    if surge == 0 and unavailable == 0:
        surge = 1
    desired = Desired(replicas, 2, max_surge=surge, max_unavailable=unavailable)
    observed = old(replicas)
    for _ in range(4 * replicas + 10):
        result = plan(desired, observed)
        if result.empty:
            break
        # Removals happen before creations count as ready: the ready ones left never drop below the floor.
        removed = {r.container_id for r in result.remove}
        ready_left = sum(c.ready for c in observed if c.id not in removed)
        assert ready_left >= replicas - unavailable
        observed = step(result, observed, 2, new_ready=True)
        assert len(observed) <= replicas + surge
    assert len(observed) == replicas
    assert all(c.generation == 2 for c in observed)


def test_new_containers_that_never_become_ready_never_replace_a_ready_one() -> None:
    desired = Desired(3, 2, max_surge=1, max_unavailable=0)
    observed = old(3)
    for _ in range(10):
        observed = step(plan(desired, observed), observed, 2, new_ready=False)
    assert sum(1 for c in observed if c.generation == 1) == 3
    assert len(observed) == 4


def test_old_containers_that_are_not_ready_go_at_once() -> None:
    desired = Desired(3, 2, max_surge=1, max_unavailable=0)
    observed = [Observed("sick", 1, True, False), *old(2)]
    result = plan(desired, observed)
    assert [(r.container_id, r.reason) for r in result.remove] == [("sick", "outdated")]


def test_a_frozen_rollout_starts_no_more_new_containers_and_keeps_the_old() -> None:
    desired = Desired(3, 2, max_surge=1, max_unavailable=0, frozen=True)
    observed = [*old(3), Observed("n1", 2, True, True), Observed("dead", 2, False, False)]
    result = plan(desired, observed)
    assert result.create == 0
    assert [(r.container_id, r.reason) for r in result.remove] == [("dead", "exited")]


def test_scaling_alone_is_not_a_rollout() -> None:
    desired = Desired(5, 1, max_surge=1, max_unavailable=0)
    assert plan(desired, old(2)).create == 3
    down = plan(Desired(1, 1, max_surge=1, max_unavailable=0), old(3))
    assert [r.reason for r in down.remove] == ["surplus", "surplus"]


def test_max_unavailable_lets_old_ones_go_before_new_ones_are_ready() -> None:
    desired = Desired(4, 2, max_surge=0, max_unavailable=2)
    result = plan(desired, old(4))
    assert result.create == 0
    assert len(result.remove) == 2
